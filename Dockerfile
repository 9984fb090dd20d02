# deskcast in a container: Debian bookworm with Node 20, set up by the same script as a host.
FROM node:20-bookworm

WORKDIR /opt/deskcast
# Cache the mediasoup worker build in a volume-friendly place, keyed by version inside.
ENV DESKCAST_CACHE_DIR=/var/cache/deskcast \
    PUPPETEER_SKIP_DOWNLOAD=1

COPY package.json package-lock.json .npmrc ./
COPY scripts ./scripts
RUN bash scripts/install-system-deps.sh

COPY . .
RUN bash scripts/setup.sh

EXPOSE 8443/tcp 40000-40003/udp 40000-40003/tcp
CMD ["node", "--enable-source-maps", "dist/server/main.js"]
