#include "capture/x11_screen_source.h"

#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/XInput2.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <algorithm>
#include <utility>

#include "common/errors.h"
#include "common/media_clock.h"

namespace deskcast {

// A ZPixmap XImage whose pixels live in a SysV shared-memory segment attached by both us and
// the X server. The segment is marked for removal right after the server attached it, so it
// cannot leak even if the process dies; destruction detaches both sides.
class ShmImage {
 public:
  ShmImage(const X11Display& x11, Visual* visual, int depth, int width, int height)
      : x11_(x11), display_(x11.get()) {
    Display* display = display_;
    shm_.shmid = -1;
    shm_.shmaddr = reinterpret_cast<char*>(-1);
    image_ = XShmCreateImage(display, visual, depth, ZPixmap, nullptr, &shm_, width, height);
    if (image_ == nullptr) {
      throw DeskcastError(errc::kNoShm, "XShmCreateImage failed for " + std::to_string(width) +
                                            "x" + std::to_string(height));
    }
    size_t bytes = static_cast<size_t>(image_->bytes_per_line) * image_->height;
    shm_.shmid = shmget(IPC_PRIVATE, bytes, IPC_CREAT | 0600);
    if (shm_.shmid < 0) {
      int err = errno;
      release();
      throw DeskcastError(errc::kNoShm,
                          "shmget(" + std::to_string(bytes) + " bytes) failed: " + strerror(err) +
                              " (check kernel.shmmax / shmall and /dev/shm limits)");
    }
    shm_.shmaddr = static_cast<char*>(shmat(shm_.shmid, nullptr, 0));
    if (shm_.shmaddr == reinterpret_cast<char*>(-1)) {
      int err = errno;
      release();
      throw DeskcastError(errc::kNoShm, std::string("shmat failed: ") + strerror(err));
    }
    image_->data = shm_.shmaddr;
    shm_.readOnly = False;
    XErrorTrap trap(display);
    Status ok = XShmAttach(display, &shm_);
    if (!ok || trap.sync() != 0) {
      std::string why = trap.errorText();
      release();
      throw DeskcastError(errc::kNoShm,
                          "the X server could not attach our MIT-SHM segment (" + why +
                              "): deskcast must run on the same host as the X server, in the "
                              "same IPC namespace (with Docker, share it: --ipc=host)");
    }
    attached_ = true;
    shmctl(shm_.shmid, IPC_RMID, nullptr);  // freed automatically once both sides detach
  }

  ~ShmImage() { release(); }
  ShmImage(const ShmImage&) = delete;
  ShmImage& operator=(const ShmImage&) = delete;

  XImage* image() const noexcept { return image_; }
  const XShmSegmentInfo& segment() const noexcept { return shm_; }

 private:
  void release() noexcept {
    // After an I/O error the connection is dead (and Xlib must not be entered again except to
    // close it): the server side is gone anyway, only our own mapping remains to release.
    if (attached_ && !x11_.connectionLost()) {
      XErrorTrap trap(display_);
      XShmDetach(display_, &shm_);
      trap.sync();  // the server must detach before the segment can disappear
    }
    attached_ = false;
    if (image_ != nullptr) {
      image_->data = nullptr;  // owned by the segment, not malloc()ed
      XDestroyImage(image_);
      image_ = nullptr;
    }
    if (shm_.shmaddr != reinterpret_cast<char*>(-1)) {
      shmdt(shm_.shmaddr);
      shm_.shmaddr = reinterpret_cast<char*>(-1);
    }
    if (shm_.shmid >= 0) {
      shmctl(shm_.shmid, IPC_RMID, nullptr);
      shm_.shmid = -1;
    }
  }

  const X11Display& x11_;
  Display* display_;
  XImage* image_ = nullptr;
  XShmSegmentInfo shm_{};
  bool attached_ = false;
};

X11ScreenSource::X11ScreenSource(std::string displayName, bool drawCursor)
    : displayName_(std::move(displayName)), drawCursor_(drawCursor) {}

void X11ScreenSource::open() {
  const std::string& displayName = displayName_;
  display_ = X11Display::open(displayName);
  Display* dpy = display_->get();
  int screen = DefaultScreen(dpy);
  root_ = RootWindow(dpy, screen);
  visual_ = DefaultVisual(dpy, screen);
  depth_ = DefaultDepth(dpy, screen);

  if (!XShmQueryExtension(dpy)) {
    throw DeskcastError(errc::kNoShm,
                        "X display '" + displayName +
                            "' has no MIT-SHM extension: deskcast needs a local X server with "
                            "MIT-SHM (Xvfb and Xorg have it unless started with -extension "
                            "MIT-SHM; it is unavailable over TCP/SSH forwarding)");
  }
  if ((depth_ != 24 && depth_ != 32) || visual_->c_class != TrueColor ||
      visual_->red_mask != 0xff0000 || visual_->green_mask != 0x00ff00 ||
      visual_->blue_mask != 0x0000ff) {
    throw DeskcastError(errc::kUnsupportedVisual,
                        "X display '" + displayName + "' uses a " + std::to_string(depth_) +
                            "-bit visual; deskcast needs 24-bit TrueColor (start Xvfb with "
                            "-screen 0 WIDTHxHEIGHTx24)");
  }

  int eventBase = 0, errorBase = 0;
  if (XFixesQueryExtension(dpy, &eventBase, &errorBase)) {
    xfixesEventBase_ = eventBase;
    XFixesSelectCursorInput(dpy, root_, XFixesDisplayCursorNotifyMask);
  }
  XSelectInput(dpy, root_, StructureNotifyMask);  // root ConfigureNotify = screen resized

  int damageError = 0;
  if (!XDamageQueryExtension(dpy, &damageEventBase_, &damageError)) {
    noDamageReason_ = "X display '" + displayName +
                      "' has no DAMAGE extension: grabbing and encoding every frame tick "
                      "(a still screen costs as much CPU as a moving one)";
  } else if (xfixesEventBase_ < 0) {
    noDamageReason_ = "X display '" + displayName +
                      "' has no XFixes extension (needed with DAMAGE): grabbing every frame tick";
  } else {
    // NonEmpty: one event when the screen goes from unchanged to changed (at once, so a frame
    // can be grabbed at once); the grab then takes the server-merged region. Raw rectangles
    // cost one event per drawing request: ~16k/s on a busy screen.
    damage_ = XDamageCreate(dpy, root_, XDamageReportNonEmpty);
    region_ = XFixesCreateRegion(dpy, nullptr, 0);
    int xiEvent = 0, xiError = 0, major = 2, minor = 0;
    if (XQueryExtension(dpy, "XInputExtension", &xiOpcode_, &xiEvent, &xiError) &&
        XIQueryVersion(dpy, &major, &minor) == Success) {
      // Raw motion reaches the root window whatever window the pointer is over.
      unsigned char bits[XIMaskLen(XI_LASTEVENT)] = {};
      XISetMask(bits, XI_RawMotion);
      XIEventMask mask{XIAllDevices, static_cast<int>(sizeof bits), bits};
      XISelectEvents(dpy, root_, &mask, 1);
    } else {
      xiOpcode_ = -1;  // the pointer position is then sampled on each grab only
    }
  }

  XWindowAttributes attrs;
  if (!XGetWindowAttributes(dpy, root_, &attrs)) {
    throw DeskcastError(errc::kDisplayOpen, "cannot query the root window of '" + displayName + "'");
  }
  allocateImage(attrs.width, attrs.height);
  queryPointer();
  if (image_->image()->bits_per_pixel != 32 || image_->image()->byte_order != LSBFirst) {
    throw DeskcastError(errc::kUnsupportedVisual,
                        "X display '" + displayName + "' delivers " +
                            std::to_string(image_->image()->bits_per_pixel) +
                            "-bit or big-endian pixels; deskcast needs 32-bit little-endian");
  }
}

X11ScreenSource::~X11ScreenSource() {
  image_.reset();  // detach the segment while the display is still open
  if (damage_ != 0 && display_ && !display_->connectionLost()) {
    XDamageDestroy(display_->get(), damage_);
    XFixesDestroyRegion(display_->get(), region_);
  }
}

void X11ScreenSource::allocateImage(int width, int height) {
  image_.reset();  // release the old segment first: peak memory stays at one image
  image_ = std::make_unique<ShmImage>(*display_, visual_, depth_, width, height);
  width_ = width;
  height_ = height;
  pendingWidth_ = width;
  pendingHeight_ = height;
}

std::string X11ScreenSource::openInfo() const {
  return std::string("X11 capture with MIT-SHM, ") +
         (damage_ != 0 ? "change-driven (DAMAGE)" : "every frame tick (no DAMAGE or XFixes)") + ", cursor " +
         (!drawCursor_ ? "off" : xfixesEventBase_ >= 0 ? "from XFixes" : "not available (no XFixes)");
}

int X11ScreenSource::waitFd() const noexcept {
  return damage_ != 0 && display_ ? ConnectionNumber(display_->get()) : -1;
}

bool X11ScreenSource::onWaitFdReadable() {
  if (!display_ || display_->connectionLost()) return true;  // grab() reports it
  bool news = processEvents();
  if (drawCursor_ && xfixesEventBase_ >= 0 && queryPointer()) {
    noteChange();
    news = true;
  }
  return news;
}

void X11ScreenSource::noteChange() noexcept {
  if (changedAtNs_ == 0) changedAtNs_ = MediaClock::nowNs();
}

// Merges into an overlapping rectangle, or appends; past kMaxDirtyRects everything becomes
// one bounding box (a busy screen costs one bigger grab rather than many requests).
void X11ScreenSource::addDirty(PixelRect r) noexcept {
  int x0 = std::max(0, r.x), y0 = std::max(0, r.y);
  int x1 = std::min(width_, r.x + r.width), y1 = std::min(height_, r.y + r.height);
  if (x1 <= x0 || y1 <= y0) return;
  noteChange();
  if (fullPending_) return;
  for (int i = 0; i < dirtyCount_; i++) {
    PixelRect& d = dirty_[i];
    if (x0 <= d.x + d.width && d.x <= x1 && y0 <= d.y + d.height && d.y <= y1) {
      int nx0 = std::min(x0, d.x), ny0 = std::min(y0, d.y);
      int nx1 = std::max(x1, d.x + d.width), ny1 = std::max(y1, d.y + d.height);
      d = PixelRect{nx0, ny0, nx1 - nx0, ny1 - ny0};
      return;
    }
  }
  if (dirtyCount_ < kMaxDirtyRects) {
    dirty_[dirtyCount_++] = PixelRect{x0, y0, x1 - x0, y1 - y0};
    return;
  }
  for (int i = 0; i < dirtyCount_; i++) {
    x0 = std::min(x0, dirty_[i].x);
    y0 = std::min(y0, dirty_[i].y);
    x1 = std::max(x1, dirty_[i].x + dirty_[i].width);
    y1 = std::max(y1, dirty_[i].y + dirty_[i].height);
  }
  dirty_[0] = PixelRect{x0, y0, x1 - x0, y1 - y0};
  dirtyCount_ = 1;
}

bool X11ScreenSource::processEvents() {
  Display* dpy = display_->get();
  while (XPending(dpy) > 0) {
    XEvent event;
    XNextEvent(dpy, &event);
    if (event.type == ConfigureNotify && event.xconfigure.window == root_) {
      pendingWidth_ = event.xconfigure.width;
      pendingHeight_ = event.xconfigure.height;
      if (pendingWidth_ != width_ || pendingHeight_ != height_) {
        fullPending_ = true;
        noteChange();
      }
    } else if (xfixesEventBase_ >= 0 && event.type == xfixesEventBase_ + XFixesCursorNotify) {
      cursorDirty_ = true;
      cursorChanged_ = true;
      noteChange();
    } else if (damage_ != 0 && event.type == damageEventBase_ + XDamageNotify) {
      damaged_ = true;  // the rectangles are fetched by grab()
      noteChange();
    } else if (event.type == GenericEvent && event.xcookie.extension == xiOpcode_) {
      // Raw motion only wakes us: onWaitFdReadable() reads the position (the cookie's data is
      // never fetched; Xlib frees it).
    }
  }
  return changedAtNs_ != 0;
}

bool X11ScreenSource::queryPointer() noexcept {
  Window rootReturn, childReturn;
  int rootX, rootY, winX, winY;
  unsigned int mask;
  bool onScreen = XQueryPointer(display_->get(), root_, &rootReturn, &childReturn, &rootX, &rootY,
                                &winX, &winY, &mask) != 0;
  if (onScreen == pointerOnScreen_ && rootX == pointerX_ && rootY == pointerY_) return false;
  pointerOnScreen_ = onScreen;
  pointerX_ = rootX;
  pointerY_ = rootY;
  cursorChanged_ = true;
  return true;
}

// Moves the server's accumulated damage into dirty_ (and empties it, re-arming NonEmpty).
void X11ScreenSource::takeDamage() {
  Display* dpy = display_->get();
  damaged_ = false;
  XDamageSubtract(dpy, damage_, None, region_);
  int count = 0;
  XRectangle* rects = XFixesFetchRegion(dpy, region_, &count);  // Xlib's reply buffer
  if (rects == nullptr) {
    fullPending_ = true;
    return;
  }
  for (int i = 0; i < count; i++) addDirty(PixelRect{rects[i].x, rects[i].y, rects[i].width, rects[i].height});
  XFree(rects);
}

// Refreshes the damaged rows of the persistent image: a full-width band has the image's own
// stride, so XShmGetImage can write it straight into place (rows merged to few requests).
bool X11ScreenSource::grabBands() {
  PixelRect rows[kMaxDirtyRects];
  int n = 0;
  for (int i = 0; i < dirtyCount_; i++) rows[n++] = dirty_[i];
  std::sort(rows, rows + n, [](const PixelRect& a, const PixelRect& b) { return a.y < b.y; });
  XImage* full = image_->image();
  int i = 0;
  while (i < n) {
    int top = rows[i].y, bottom = rows[i].y + rows[i].height;
    for (i++; i < n && rows[i].y <= bottom; i++) bottom = std::max(bottom, rows[i].y + rows[i].height);
    XImage band = *full;
    band.height = bottom - top;
    band.data = full->data + static_cast<size_t>(top) * full->bytes_per_line;
    if (!XShmGetImage(display_->get(), root_, &band, 0, top, AllPlanes)) return false;
  }
  return true;
}

ScreenSource::GrabResult X11ScreenSource::grab(BgrxFrame* frame) {
  if (display_->connectionLost()) return GrabResult::kConnectionLost;
  processEvents();
  if (display_->connectionLost()) return GrabResult::kConnectionLost;

  bool resized = false;
  if (pendingWidth_ != width_ || pendingHeight_ != height_) {
    allocateImage(pendingWidth_, pendingHeight_);
    resized = true;
  }
  // Change-driven: only what DAMAGE reported (a keyframe on a still screen grabs nothing).
  if (damage_ != 0 && damaged_) takeDamage();
  const bool full = damage_ == 0 || fullPending_ || resized;

  {
    XErrorTrap trap(display_->get());
    Bool ok = full ? XShmGetImage(display_->get(), root_, image_->image(), 0, 0, AllPlanes)
                   : grabBands();
    if (display_->connectionLost()) return GrabResult::kConnectionLost;
    if (!ok || trap.errorCode() != 0) {
      // A shrinking screen can fail the grab before its ConfigureNotify arrives: re-check.
      XWindowAttributes attrs;
      if (XGetWindowAttributes(display_->get(), root_, &attrs) &&
          (attrs.width != width_ || attrs.height != height_)) {
        pendingWidth_ = attrs.width;
        pendingHeight_ = attrs.height;
        allocateImage(pendingWidth_, pendingHeight_);
        resized = true;
        ok = XShmGetImage(display_->get(), root_, image_->image(), 0, 0, AllPlanes);
      }
      if (!ok || (trap.errorCode() != 0 && !resized)) {
        lastError_ = "XShmGetImage failed: " + trap.errorText();
        fullPending_ = true;  // the next grab must not trust the picture
        return display_->connectionLost() ? GrabResult::kConnectionLost : GrabResult::kFailed;
      }
    }
  }

  frame->cursor.visible = false;
  frame->cursorChanged = false;
  if (drawCursor_ && xfixesEventBase_ >= 0) {
    if (cursorDirty_) refreshCursorImage();
    queryPointer();  // one round trip per grab; motion events only wake us up
    frame->cursor.pixels = cursorPixels_.data();
    frame->cursor.width = cursorWidth_;
    frame->cursor.height = cursorHeight_;
    frame->cursor.x = pointerX_ - cursorHotX_;
    frame->cursor.y = pointerY_ - cursorHotY_;
    frame->cursor.visible = pointerOnScreen_ && cursorWidth_ > 0 && cursorHeight_ > 0;
    frame->cursorChanged = cursorChanged_ || full;
  }
  cursorChanged_ = false;
  if (display_->connectionLost()) return GrabResult::kConnectionLost;
  const XImage* image = image_->image();
  frame->pixels = reinterpret_cast<const uint8_t*>(image->data);
  frame->width = width_;
  frame->height = height_;
  frame->stride = image->bytes_per_line;
  frame->full = full || resized;
  frame->dirtyCount = frame->full ? 0 : dirtyCount_;
  std::copy(dirty_, dirty_ + frame->dirtyCount, frame->dirty);
  frame->changedAtNs = changedAtNs_;
  fullPending_ = false;
  dirtyCount_ = 0;
  changedAtNs_ = 0;
  return resized ? GrabResult::kResized : GrabResult::kOk;
}

void X11ScreenSource::refreshCursorImage() {
  cursorDirty_ = false;
  cursorChanged_ = true;
  XFixesCursorImage* cursor = XFixesGetCursorImage(display_->get());
  if (cursor == nullptr) {
    cursorWidth_ = cursorHeight_ = 0;
    return;
  }
  cursorWidth_ = cursor->width;
  cursorHeight_ = cursor->height;
  cursorHotX_ = cursor->xhot;
  cursorHotY_ = cursor->yhot;
  size_t count = static_cast<size_t>(cursorWidth_) * cursorHeight_;
  if (cursorPixels_.size() < count) cursorPixels_.resize(count);  // grows rarely, never shrinks
  // XFixes hands out premultiplied ARGB in `unsigned long`s (64-bit on LP64).
  for (size_t i = 0; i < count; i++) cursorPixels_[i] = static_cast<uint32_t>(cursor->pixels[i]);
  XFree(cursor);
}

}  // namespace deskcast
