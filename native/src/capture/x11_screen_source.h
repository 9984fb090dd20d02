// The X11 screen source: MIT-SHM XShmGetImage of the root window with the cursor composited in
// (XFixes). Detects screen size changes (RandR resizes the root window) and re-allocates its
// shared-memory image in place. Allocation-free per frame.
#pragma once

#include <X11/Xlib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/screen_source.h"
#include "x11/x11_display.h"

namespace deskcast {

class ShmImage;

class X11ScreenSource final : public ScreenSource {
 public:
  // Remembers the display; nothing is opened before open().
  X11ScreenSource(std::string displayName, bool drawCursor);
  ~X11ScreenSource() override;
  X11ScreenSource(const X11ScreenSource&) = delete;
  X11ScreenSource& operator=(const X11ScreenSource&) = delete;

  // Opens the display and allocates the shared-memory image. Throws DeskcastError
  // (ERR_DISPLAY_OPEN, ERR_NO_MIT_SHM, ERR_UNSUPPORTED_VISUAL) with advice.
  void open() override;
  GrabResult grab(BgrxFrame* frame) override;

  int width() const noexcept override { return width_; }
  int height() const noexcept override { return height_; }
  const std::string& lastError() const noexcept override { return lastError_; }
  const std::string& displayName() const noexcept override { return displayName_; }
  bool cursorSupported() const noexcept override { return xfixesEventBase_ >= 0; }

 private:
  void allocateImage(int width, int height);
  void processEvents();
  void refreshCursorImage();
  void compositeCursor() noexcept;

  const std::string displayName_;
  std::unique_ptr<X11Display> display_;
  Window root_ = 0;
  Visual* visual_ = nullptr;
  int depth_ = 0;
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
