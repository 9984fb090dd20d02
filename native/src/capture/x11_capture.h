// X11 screen capture: MIT-SHM XShmGetImage of the root window with the cursor composited in
// (XFixes). Detects screen size changes (RandR resizes the root window) and re-allocates its
// shared-memory image in place. Allocation-free per frame.
#pragma once

#include <X11/Xlib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "x11/x11_display.h"

namespace deskcast {

class ShmImage;

class X11Capture {
 public:
  enum class GrabResult {
    kOk,              // pixels() holds a fresh frame
    kResized,         // the screen size changed; the image was re-allocated and holds a frame
    kFailed,          // this grab failed (lastError() says why); the session may retry
    kConnectionLost,  // the X server went away; fatal
  };

  // Opens the display and allocates the shared-memory image. Throws DeskcastError
  // (ERR_DISPLAY_OPEN, ERR_NO_MIT_SHM, ERR_UNSUPPORTED_VISUAL) with advice.
  X11Capture(const std::string& displayName, bool drawCursor);
  ~X11Capture();
  X11Capture(const X11Capture&) = delete;
  X11Capture& operator=(const X11Capture&) = delete;

  // Captures the whole screen. May throw DeskcastError if re-allocation after a resize fails.
  GrabResult grab();

  // BGRX pixels (little-endian 0x00RRGGBB words) of the last grab.
  const uint8_t* pixels() const noexcept;
  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  int stride() const noexcept;
  const std::string& lastError() const noexcept { return lastError_; }
  const std::string& displayName() const noexcept { return display_->name(); }
  bool cursorSupported() const noexcept { return xfixesEventBase_ >= 0; }

 private:
  void allocateImage(int width, int height);
  void processEvents();
  void refreshCursorImage();
  void compositeCursor() noexcept;

  std::unique_ptr<X11Display> display_;
  Window root_;
  Visual* visual_;
  int depth_;
  int width_ = 0;
  int height_ = 0;
  int pendingWidth_ = 0;   // size announced by ConfigureNotify, applied on the next grab
  int pendingHeight_ = 0;
  std::unique_ptr<ShmImage> image_;
  std::string lastError_;

  // Cursor (XFixes): the image is fetched only when it changes; the position every frame.
  bool drawCursor_;
  int xfixesEventBase_ = -1;
  bool cursorDirty_ = true;
  std::vector<uint32_t> cursorPixels_;  // premultiplied ARGB
  int cursorWidth_ = 0;
  int cursorHeight_ = 0;
  int cursorHotX_ = 0;
  int cursorHotY_ = 0;
};

}  // namespace deskcast
