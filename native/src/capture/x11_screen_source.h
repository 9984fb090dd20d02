// The X11 screen source: a persistent MIT-SHM image of the root window, refreshed where the
// DAMAGE extension says the screen changed (full-width row bands: one XShmGetImage each, the
// rows land in place because a band has the image's own stride). The cursor comes from XFixes
// (shape) and XInput2 raw motion (position) and is reported, not drawn: the pipeline draws it
// into its YUV picture. Without DAMAGE it grabs the whole screen on every frame tick.
// Detects screen size changes (RandR resizes the root window) and re-allocates its
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
  int waitFd() const noexcept override;
  bool onWaitFdReadable() override;
  const char* backend() const noexcept override { return "x11"; }
  std::string openInfo() const override;
  bool changeDriven() const noexcept override { return damage_ != 0; }
  // XWarpPointer (xdotool, some toolkits) moves the pointer without raw motion events.
  int64_t pollIntervalNs() const noexcept override { return damage_ != 0 && drawCursor_ ? 50000000 : 0; }
  const std::string& changeTrackingUnavailable() const noexcept override { return noDamageReason_; }

 private:
  void allocateImage(int width, int height);
  bool processEvents();  // true: something a frame must show
  void noteChange() noexcept;
  void addDirty(PixelRect r) noexcept;
  bool grabBands();
  void takeDamage();
  bool queryPointer() noexcept;  // true: the cursor moved
  void refreshCursorImage();

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

  // DAMAGE: what changed since the last grab, merged into at most kMaxDirtyRects rectangles.
  unsigned long damage_ = 0;  // Damage XID; 0 = not change-driven
  unsigned long region_ = 0;  // XFixes region the damage is moved into on each grab
  bool damaged_ = false;      // a DamageNotify since the last grab
  int damageEventBase_ = -1;
  std::string noDamageReason_;
  bool fullPending_ = true;
  int dirtyCount_ = 0;
  PixelRect dirty_[kMaxDirtyRects];
  int64_t changedAtNs_ = 0;
  int xiOpcode_ = -1;  // XInput2 raw motion: the pointer moved

  // Cursor (XFixes): the image is fetched only when it changes; the position every frame.
  bool drawCursor_;
  int xfixesEventBase_ = -1;
  bool cursorDirty_ = true;
  std::vector<uint32_t> cursorPixels_;  // premultiplied ARGB
  int cursorWidth_ = 0;
  int cursorHeight_ = 0;
  int cursorHotX_ = 0;
  int cursorHotY_ = 0;
  int pointerX_ = -1;
  int pointerY_ = -1;
  bool pointerOnScreen_ = false;
  bool cursorChanged_ = true;  // shape or position changed since the last grab
};

}  // namespace deskcast
