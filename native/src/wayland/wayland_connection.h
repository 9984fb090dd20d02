// Wayland plumbing shared by capture (capture/wayland_screen_source.h) and input
// (input/wayland_input_injector.h): one wl_display connection per user, RAII for every proxy,
// the registry's globals and outputs, and dispatching with a deadline (a compositor that stops
// answering must never hang a worker or the pipeline thread forever).
//
// Not thread-safe: each connection belongs to one thread at a time (open on a libuv worker,
// then the pipeline or injector thread), like X11Display.
#pragma once

#include <wayland-client.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace deskcast {

// unique_ptr for a proxy with its protocol's destructor request: WlPtr<wl_output, wl_output_release>.
template <typename T, void (*Destroy)(T*)>
struct WlDeleter {
  void operator()(T* p) const noexcept {
    if (p) Destroy(p);
  }
};
template <typename T, void (*Destroy)(T*)>
using WlPtr = std::unique_ptr<T, WlDeleter<T, Destroy>>;

struct WaylandGlobal {
  uint32_t name = 0;
  std::string interface;
  uint32_t version = 0;
};

// One wl_output with what the compositor told about it (wl_output v4 has the name).
struct WaylandOutput {
  uint32_t globalName = 0;
  wl_output* proxy = nullptr;  // owned by WaylandConnection
  std::string name;            // "HEADLESS-1"; empty before wl_output v4
  int32_t modeWidth = 0;       // current mode, in pixels (before transform and scale)
  int32_t modeHeight = 0;
  int32_t transform = WL_OUTPUT_TRANSFORM_NORMAL;
  bool done = false;
};

class WaylandConnection {
 public:
  // Connects to `socket` (a name in $XDG_RUNTIME_DIR, or an absolute path: the way to reach a
  // compositor that another user runs) and reads the globals and every output's description.
  // Throws DeskcastError(ERR_DISPLAY_OPEN) saying what to check.
  static std::unique_ptr<WaylandConnection> connect(const std::string& socket, int timeoutMs = 5000);
  ~WaylandConnection();
  WaylandConnection(const WaylandConnection&) = delete;
  WaylandConnection& operator=(const WaylandConnection&) = delete;

  wl_display* display() const noexcept { return display_; }
  int fd() const noexcept { return wl_display_get_fd(display_); }
  const std::string& socketName() const noexcept { return socket_; }

  const WaylandGlobal* findGlobal(const char* interface) const noexcept;
  // Binds `interface` at min(offered, maxVersion); nullptr when not offered or older than minVersion.
  void* bind(const wl_interface* interface, uint32_t minVersion, uint32_t maxVersion,
             uint32_t* boundVersion = nullptr);
  // "wl_shm v1, zwlr_screencopy_manager_v1 v3, ..." (for messages saying what is offered).
  std::string globalsSummary() const;

  const std::vector<std::unique_ptr<WaylandOutput>>& outputs() const noexcept { return outputs_; }
  // The output named `name`, or the first one when `name` is empty. nullptr: none (see outputNames()).
  WaylandOutput* findOutput(const std::string& name) const noexcept;
  std::string outputNames() const;

  // Sends buffered requests and dispatches events until `until()` is true or `timeoutMs` runs
  // out. Returns false on timeout; throws nothing, check lost() for a broken connection.
  template <typename Pred>
  bool dispatchUntil(Pred until, int timeoutMs) {
    return dispatchUntilImpl(&callPred<Pred>, &until, timeoutMs);
  }
  // One round trip with a deadline (wl_display_roundtrip waits forever). False: timed out or lost.
  bool roundtrip(int timeoutMs);
  // Non-blocking: reads what the fd has, dispatches it and sends what the callbacks asked for.
  // False: the connection is lost.
  bool dispatchAvailable() noexcept;
  // Non-blocking flush of queued requests. False: the connection is lost.
  bool flush() noexcept;
  bool lost() const noexcept { return wl_display_get_error(display_) != 0; }
  std::string errorText() const;

  // wl_registry listener callbacks (public for the listener table only).
  static void onGlobal(void* data, wl_registry* registry, uint32_t name, const char* interface,
                       uint32_t version);
  static void onGlobalRemove(void* data, wl_registry* registry, uint32_t name);

 private:
  WaylandConnection(wl_display* display, std::string socket);
  template <typename Pred>
  static bool callPred(void* p) {
    return (*static_cast<Pred*>(p))();
  }
  bool dispatchUntilImpl(bool (*until)(void*), void* ctx, int timeoutMs);
  wl_display* display_;
  std::string socket_;
  wl_registry* registry_ = nullptr;
  std::vector<WaylandGlobal> globals_;
  std::vector<std::unique_ptr<WaylandOutput>> outputs_;
};

}  // namespace deskcast
