// What the video pipeline needs from a capture backend: BGRX frames of the whole screen, on
// demand, from memory the backend owns (an X MIT-SHM segment today; a wl_shm buffer or a
// PipeWire buffer later). VideoSession calls everything here from one thread at a time (the
// start worker for open(), then the pipeline thread), so implementations need no locking.
// Nothing here may allocate per frame.
#pragma once

#include <cstdint>
#include <string>

namespace deskcast {

struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;
  bool empty() const noexcept { return width <= 0 || height <= 0; }
};

// The cursor as the pipeline draws it over the picture (premultiplied ARGB, `width` pixels a
// row); the source's own pixels never contain it, so its old area can be restored from them.
struct CursorImage {
  const uint32_t* pixels = nullptr;
  int width = 0, height = 0;
  int x = 0, y = 0;  // top-left on the screen (hotspot already subtracted)
  bool visible = false;
};

inline constexpr int kMaxDirtyRects = 16;

// One captured frame: little-endian 0x00RRGGBB words, `stride` bytes per row. It points into
// the source's own buffer, which is a persistent picture of the whole screen: it stays valid
// until the next grab() or until the source is closed, and a grab() may refresh only part of it.
struct BgrxFrame {
  const uint8_t* pixels = nullptr;
  int width = 0;
  int height = 0;
  int stride = 0;
  // What this grab() refreshed: everything (`full`), or the `dirtyCount` rectangles.
  bool full = true;
  int dirtyCount = 0;
  PixelRect dirty[kMaxDirtyRects];
  // Where to draw the cursor; `cursorChanged` when its shape or position moved since last grab.
  CursorImage cursor;
  bool cursorChanged = false;
  // When the change this frame shows was first noticed (MediaClock ns; 0: unknown, e.g. timer).
  int64_t changedAtNs = 0;
  // When the compositor presented these pixels (CLOCK_MONOTONIC ns, as MediaClock), 0 = unknown
  // (then the grab time stands for it). Wayland capture protocols report it.
  int64_t presentedNs = 0;
};

class ScreenSource {
 public:
  enum class GrabResult {
    kOk,              // the frame holds fresh pixels
    kResized,         // the screen size changed; the frame holds fresh pixels at the new size
    kFailed,          // this grab failed (lastError() says why); the pipeline retries later
    kConnectionLost,  // the display server went away; fatal for the session
  };

  virtual ~ScreenSource() = default;

  // Connects to the display server and allocates the capture buffer, so that width() and
  // height() are known. Blocking; throws DeskcastError with advice (no display, missing
  // extension or protocol, unsupported pixel format).
  virtual void open() = 0;

  // Refreshes the persistent picture (the whole screen, or only what changed since the last
  // grab for sources that track damage) and describes it in `frame`, cursor apart.
  // May throw DeskcastError when re-allocating after a size change fails.
  virtual GrabResult grab(BgrxFrame* frame) = 0;

  // The current screen size: what the next grab() delivers unless it reports kResized.
  virtual int width() const noexcept = 0;
  virtual int height() const noexcept = 0;
  // Why the last grab() failed.
  virtual const std::string& lastError() const noexcept = 0;
  // The display as the user named it (for messages): ":0", "wayland-1", ...
  virtual const std::string& displayName() const noexcept = 0;
  // False when the backend cannot report the cursor (the session logs a warning).
  virtual bool cursorSupported() const noexcept = 0;
  // After open(): the capture method, as STATUS and the logs name it ("x11",
  // "ext-image-copy-capture", "wlr-screencopy"); before open(): the one asked for.
  virtual const char* backend() const noexcept = 0;
  // After open(): how the source captures and why alternatives were skipped (logged once).
  virtual std::string openInfo() const { return {}; }

  // Event-driven backends (X damage, a compositor's frame-ready, a PipeWire stream) return a
  // file descriptor that becomes readable when they have news; the pipeline waits on it with
  // its frame timer and RTCP socket instead of busy-polling. -1: paced by the frame timer only.
  virtual int waitFd() const noexcept { return -1; }
  // Called on the pipeline thread when waitFd() is readable: consume the news (so the fd is no
  // longer readable) and return true when a frame is due (the pipeline grabs at once, or at
  // the fps pacing deadline if the last frame is more recent than 1/fps).
  virtual bool onWaitFdReadable() { return false; }
  // Some news comes without an event (X: a warped pointer): the pipeline also calls
  // onWaitFdReadable() when this long has passed without one (0: never).
  virtual int64_t pollIntervalNs() const noexcept { return 0; }
  // True when the source reports changes (waitFd()): the pipeline then grabs only when
  // onWaitFdReadable() says so (or a keyframe is requested), not on every tick.
  virtual bool changeDriven() const noexcept { return false; }
  // Why the source is not change-driven (logged once), empty when it is or was never meant to.
  virtual const std::string& changeTrackingUnavailable() const noexcept {
    static const std::string none;
    return none;
  }
};

}  // namespace deskcast
