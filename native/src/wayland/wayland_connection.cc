#include "wayland/wayland_connection.h"

#include <poll.h>
#include <time.h>

#include <cerrno>
#include <cstring>

#include "common/errors.h"

namespace deskcast {

namespace {

int64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// The transform matters: a turned output's logical size (what capture delivers and absolute
// pointer motion spans) is its mode with width and height swapped.
void outputGeometry(void* data, wl_output*, int32_t, int32_t, int32_t, int32_t, int32_t, const char*,
                    const char*, int32_t transform) {
  static_cast<WaylandOutput*>(data)->transform = transform;
}
void outputMode(void* data, wl_output*, uint32_t flags, int32_t width, int32_t height, int32_t) {
  if (!(flags & WL_OUTPUT_MODE_CURRENT)) return;
  auto* out = static_cast<WaylandOutput*>(data);
  out->modeWidth = width;
  out->modeHeight = height;
}
void outputDone(void* data, wl_output*) { static_cast<WaylandOutput*>(data)->done = true; }
void outputScale(void*, wl_output*, int32_t) {}
void outputName(void* data, wl_output*, const char* name) {
  static_cast<WaylandOutput*>(data)->name = name;
}
void outputDescription(void*, wl_output*, const char*) {}

const wl_output_listener kOutputListener = {outputGeometry, outputMode,  outputDone,
                                            outputScale,    outputName, outputDescription};

const wl_registry_listener kRegistryListener = {
    [](void* data, wl_registry* r, uint32_t name, const char* iface, uint32_t version) {
      WaylandConnection::onGlobal(data, r, name, iface, version);
    },
    [](void* data, wl_registry* r, uint32_t name) { WaylandConnection::onGlobalRemove(data, r, name); },
};

}  // namespace

std::unique_ptr<WaylandConnection> WaylandConnection::connect(const std::string& socket, int timeoutMs) {
  if (socket.empty()) {
    throw DeskcastError(errc::kDisplayOpen,
                        "no Wayland display given: pass --wayland-display (a socket name in "
                        "$XDG_RUNTIME_DIR, or an absolute path) or set WAYLAND_DISPLAY");
  }
  errno = 0;
  wl_display* display = wl_display_connect(socket.c_str());
  if (!display) {
    const int err = errno;
    std::string where = socket[0] == '/' ? socket
                                         : "$XDG_RUNTIME_DIR/" + socket + " (XDG_RUNTIME_DIR=" +
                                               (getenv("XDG_RUNTIME_DIR") ? getenv("XDG_RUNTIME_DIR") : "unset") + ")";
    throw DeskcastError(errc::kDisplayOpen,
                        "cannot connect to Wayland display '" + socket + "' at " + where + ": " +
                            (err ? errnoText(err) : std::string("no such compositor")) +
                            ". Is the compositor running, and may this user open its socket? "
                            "A compositor run by another user is reached by the absolute path of its socket.");
  }
  std::unique_ptr<WaylandConnection> c(new WaylandConnection(display, socket));
  c->registry_ = wl_display_get_registry(display);
  wl_registry_add_listener(c->registry_, &kRegistryListener, c.get());
  // Globals in the first round trip, the outputs' descriptions (bound in onGlobal) in the second.
  if (!c->roundtrip(timeoutMs) || !c->roundtrip(timeoutMs)) {
    throw DeskcastError(errc::kDisplayOpen, "Wayland display '" + socket +
                                                "' accepted the connection but did not answer within " +
                                                std::to_string(timeoutMs) + " ms" +
                                                (c->lost() ? ": " + c->errorText() : std::string()));
  }
  return c;
}

WaylandConnection::WaylandConnection(wl_display* display, std::string socket)
    : display_(display), socket_(std::move(socket)) {}

WaylandConnection::~WaylandConnection() {
  for (auto& out : outputs_) {
    if (!out->proxy) continue;
    if (wl_output_get_version(out->proxy) >= WL_OUTPUT_RELEASE_SINCE_VERSION) wl_output_release(out->proxy);
    else wl_output_destroy(out->proxy);
  }
  if (registry_) wl_registry_destroy(registry_);
  wl_display_flush(display_);
  wl_display_disconnect(display_);
}

void WaylandConnection::onGlobal(void* data, wl_registry* registry, uint32_t name,
                                 const char* interface, uint32_t version) {
  auto* self = static_cast<WaylandConnection*>(data);
  self->globals_.push_back({name, interface, version});
  if (std::strcmp(interface, wl_output_interface.name) == 0) {
    auto out = std::make_unique<WaylandOutput>();
    out->globalName = name;
    const uint32_t v = version < 4 ? version : 4;
    out->proxy = static_cast<wl_output*>(wl_registry_bind(registry, name, &wl_output_interface, v));
    wl_output_add_listener(out->proxy, &kOutputListener, out.get());
    self->outputs_.push_back(std::move(out));
  }
}

void WaylandConnection::onGlobalRemove(void* data, wl_registry*, uint32_t name) {
  auto* self = static_cast<WaylandConnection*>(data);
  for (auto it = self->globals_.begin(); it != self->globals_.end(); ++it) {
    if (it->name == name) {
      self->globals_.erase(it);
      break;
    }
  }
  // A removed output keeps its proxy until the connection closes: a capture or a virtual pointer
  // may still name it (the compositor then ends that capture with its own event).
}

const WaylandGlobal* WaylandConnection::findGlobal(const char* interface) const noexcept {
  for (const auto& g : globals_) {
    if (g.interface == interface) return &g;
  }
  return nullptr;
}

void* WaylandConnection::bind(const wl_interface* interface, uint32_t minVersion,
                              uint32_t maxVersion, uint32_t* boundVersion) {
  const WaylandGlobal* g = findGlobal(interface->name);
  if (!g || g->version < minVersion) return nullptr;
  uint32_t v = g->version < maxVersion ? g->version : maxVersion;
  if (v > static_cast<uint32_t>(interface->version)) v = interface->version;
  if (boundVersion) *boundVersion = v;
  return wl_registry_bind(registry_, g->name, interface, v);
}

std::string WaylandConnection::globalsSummary() const {
  std::string s;
  for (const auto& g : globals_) {
    if (!s.empty()) s += ", ";
    s += g.interface + " v" + std::to_string(g.version);
  }
  return s;
}

WaylandOutput* WaylandConnection::findOutput(const std::string& name) const noexcept {
  for (const auto& out : outputs_) {
    if (name.empty() || out->name == name) return out.get();
  }
  return nullptr;
}

std::string WaylandConnection::outputNames() const {
  std::string s;
  for (const auto& out : outputs_) {
    if (!s.empty()) s += ", ";
    s += out->name.empty() ? "(unnamed: wl_output < v4)" : out->name;
    s += " " + std::to_string(out->modeWidth) + "x" + std::to_string(out->modeHeight);
  }
  return s.empty() ? "none" : s;
}

std::string WaylandConnection::errorText() const {
  const int err = wl_display_get_error(display_);
  if (err == 0) return "no error";
  if (err == EPROTO) {
    const wl_interface* iface = nullptr;
    uint32_t id = 0;
    const uint32_t code = wl_display_get_protocol_error(display_, &iface, &id);
    return "protocol error " + std::to_string(code) + " on " + (iface ? iface->name : "?") + "@" +
           std::to_string(id);
  }
  return "the connection to the compositor was lost (" + errnoText(err) + ")";
}

bool WaylandConnection::flush() noexcept {
  if (lost()) return false;
  // EAGAIN: the socket is full; what is left goes with the next flush.
  return wl_display_flush(display_) >= 0 || errno == EAGAIN;
}

bool WaylandConnection::dispatchAvailable() noexcept {
  if (lost()) return false;
  while (wl_display_prepare_read(display_) != 0) {
    if (wl_display_dispatch_pending(display_) < 0) return false;
  }
  flush();
  pollfd pfd{wl_display_get_fd(display_), POLLIN, 0};
  if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP))) {
    if (wl_display_read_events(display_) < 0) return false;
  } else {
    wl_display_cancel_read(display_);
  }
  const bool ok = wl_display_dispatch_pending(display_) >= 0;
  // Callbacks may have queued requests (wlr-screencopy's buffer_done answers with its copy): out
  // now, or they wait for the next change-driven wake-up, which then never comes.
  flush();
  return ok;
}

bool WaylandConnection::dispatchUntilImpl(bool (*until)(void*), void* ctx, int timeoutMs) {
  const int64_t deadline = monotonicMs() + timeoutMs;
  for (;;) {
    if (wl_display_dispatch_pending(display_) < 0) return false;
    if (until(ctx)) return true;
    if (lost()) return false;
    while (wl_display_prepare_read(display_) != 0) {
      if (wl_display_dispatch_pending(display_) < 0) return false;
    }
    if (until(ctx)) {
      wl_display_cancel_read(display_);
      return true;
    }
    flush();
    const int64_t left = deadline - monotonicMs();
    if (left <= 0) {
      wl_display_cancel_read(display_);
      return false;
    }
    pollfd pfd{wl_display_get_fd(display_), POLLIN, 0};
    const int n = poll(&pfd, 1, static_cast<int>(left));
    if (n > 0) {
      if (wl_display_read_events(display_) < 0) return false;
    } else {
      wl_display_cancel_read(display_);
      if (n < 0 && errno != EINTR) return false;
    }
  }
}

bool WaylandConnection::roundtrip(int timeoutMs) {
  bool done = false;
  wl_callback* cb = wl_display_sync(display_);
  static const wl_callback_listener kDone = {
      [](void* data, wl_callback*, uint32_t) { *static_cast<bool*>(data) = true; }};
  wl_callback_add_listener(cb, &kDone, &done);
  const bool ok = dispatchUntil([&] { return done; }, timeoutMs);
  wl_callback_destroy(cb);  // safe after a timeout too: a late `done` then finds no proxy
  return ok;
}

}  // namespace deskcast
