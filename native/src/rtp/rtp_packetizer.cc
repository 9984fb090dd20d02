#include "rtp/rtp_packetizer.h"

#include <cstring>
#include <stdexcept>

#include "rtp/rtp_header.h"

namespace deskcast {

namespace {
constexpr uint8_t kFuA = 28;
constexpr size_t kFuOverhead = 2;  // FU indicator + FU header
}  // namespace

H264RtpPacketizer::H264RtpPacketizer(uint32_t ssrc, uint8_t payloadType,
                                     uint16_t firstSequenceNumber, size_t maxPayload)
    : ssrc_(ssrc), payloadType_(payloadType & 0x7f), sequence_(firstSequenceNumber),
      maxPayload_(maxPayload), buffer_(kRtpHeaderSize + kMaxRtpExtensionBytes + maxPayload) {
  if (maxPayload <= kFuOverhead) throw std::invalid_argument("RTP max payload too small");
}

size_t H264RtpPacketizer::writeHeader(bool marker, uint32_t timestamp,
                                      const RtpFrameExtensions* ext) noexcept {
  uint8_t* p = buffer_.data();
  writeRtpHeader(p, marker, payloadType_, sequence_, timestamp, ssrc_);
  sequence_++;
  if (ext == nullptr || (ext->absCaptureTimeId == 0 && ext->playoutDelayId == 0)) {
    return kRtpHeaderSize;
  }
  p[0] |= 0x10;  // X bit
  uint8_t* e = p + kRtpHeaderSize + 4;
  size_t n = 0;
  if (ext->playoutDelayId != 0) {
    e[n++] = static_cast<uint8_t>(ext->playoutDelayId << 4 | (3 - 1));
    e[n++] = 0;  // 12-bit min, 12-bit max (10 ms units): 0, 0
    e[n++] = 0;
    e[n++] = 0;
  }
  if (ext->absCaptureTimeId != 0) {
    e[n++] = static_cast<uint8_t>(ext->absCaptureTimeId << 4 | (8 - 1));
    for (int shift = 56; shift >= 0; shift -= 8) e[n++] = static_cast<uint8_t>(ext->captureNtp >> shift);
  }
  while (n % 4 != 0) e[n++] = 0;  // padding
  uint8_t* h = p + kRtpHeaderSize;
  h[0] = 0xbe;  // RFC 8285 one-byte form
  h[1] = 0xde;
  h[2] = static_cast<uint8_t>((n / 4) >> 8);
  h[3] = static_cast<uint8_t>(n / 4);
  return kRtpHeaderSize + 4 + n;
}

size_t H264RtpPacketizer::packetize(const h264::NalUnit* nals, size_t count, uint32_t timestamp,
                                    RtpPacketSink& sink, const RtpFrameExtensions* extensions) {
  size_t packets = 0;
  // The extensions go on the frame's first packet only; the payload follows the header.
  const RtpFrameExtensions* ext = extensions;
  for (size_t n = 0; n < count; n++) {
    const h264::NalUnit& nal = nals[n];
    if (nal.size == 0) continue;
    bool lastNal = n + 1 == count;
    if (nal.size <= maxPayload_) {
      // Single NAL unit packet (RFC 6184 §5.6): the payload is the NAL unit itself.
      size_t hdr = writeHeader(lastNal, timestamp, ext);
      ext = nullptr;
      memcpy(buffer_.data() + hdr, nal.data, nal.size);
      sink.onRtpPacket(buffer_.data(), hdr + nal.size, nal.size);
      packets++;
      continue;
    }
    // FU-A (RFC 6184 §5.8): the NAL header is not sent; its F/NRI bits go into the FU
    // indicator and its type into the FU header, so the receiver can rebuild it.
    const uint8_t header = nal.data[0];
    const uint8_t indicator = static_cast<uint8_t>((header & 0xe0) | kFuA);
    const size_t chunkMax = maxPayload_ - kFuOverhead;
    size_t pos = 1;
    while (pos < nal.size) {
      size_t chunk = nal.size - pos < chunkMax ? nal.size - pos : chunkMax;
      bool start = pos == 1;
      bool end = pos + chunk == nal.size;
      size_t hdr = writeHeader(lastNal && end, timestamp, ext);
      ext = nullptr;
      uint8_t* payload = buffer_.data() + hdr;
      payload[0] = indicator;
      payload[1] = static_cast<uint8_t>((start ? 0x80 : 0) | (end ? 0x40 : 0) | (header & 0x1f));
      memcpy(payload + kFuOverhead, nal.data + pos, chunk);
      sink.onRtpPacket(buffer_.data(), hdr + kFuOverhead + chunk, kFuOverhead + chunk);
      packets++;
      pos += chunk;
    }
  }
  return packets;
}

}  // namespace deskcast
