#include "capture/x11_screen_source.h"

#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xfixes.h>
#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <utility>

#include "common/errors.h"

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

  XWindowAttributes attrs;
  if (!XGetWindowAttributes(dpy, root_, &attrs)) {
    throw DeskcastError(errc::kDisplayOpen, "cannot query the root window of '" + displayName + "'");
  }
  allocateImage(attrs.width, attrs.height);
  if (image_->image()->bits_per_pixel != 32 || image_->image()->byte_order != LSBFirst) {
    throw DeskcastError(errc::kUnsupportedVisual,
                        "X display '" + displayName + "' delivers " +
                            std::to_string(image_->image()->bits_per_pixel) +
                            "-bit or big-endian pixels; deskcast needs 32-bit little-endian");
  }
}

X11ScreenSource::~X11ScreenSource() {
  image_.reset();  // detach the segment while the display is still open
}

void X11ScreenSource::allocateImage(int width, int height) {
  image_.reset();  // release the old segment first: peak memory stays at one image
  image_ = std::make_unique<ShmImage>(*display_, visual_, depth_, width, height);
  width_ = width;
  height_ = height;
  pendingWidth_ = width;
  pendingHeight_ = height;
}

void X11ScreenSource::processEvents() {
  Display* dpy = display_->get();
  while (XPending(dpy) > 0) {
    XEvent event;
    XNextEvent(dpy, &event);
    if (event.type == ConfigureNotify && event.xconfigure.window == root_) {
      pendingWidth_ = event.xconfigure.width;
      pendingHeight_ = event.xconfigure.height;
    } else if (xfixesEventBase_ >= 0 && event.type == xfixesEventBase_ + XFixesCursorNotify) {
      cursorDirty_ = true;
    }
  }
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

  {
    XErrorTrap trap(display_->get());
    Bool ok = XShmGetImage(display_->get(), root_, image_->image(), 0, 0, AllPlanes);
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
        return display_->connectionLost() ? GrabResult::kConnectionLost : GrabResult::kFailed;
      }
    }
  }

  if (drawCursor_ && xfixesEventBase_ >= 0) {
    if (cursorDirty_) refreshCursorImage();
    compositeCursor();
  }
  if (display_->connectionLost()) return GrabResult::kConnectionLost;
  const XImage* image = image_->image();
  frame->pixels = reinterpret_cast<const uint8_t*>(image->data);
  frame->width = width_;
  frame->height = height_;
  frame->stride = image->bytes_per_line;
  return resized ? GrabResult::kResized : GrabResult::kOk;
}

void X11ScreenSource::refreshCursorImage() {
  cursorDirty_ = false;
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

void X11ScreenSource::compositeCursor() noexcept {
  if (cursorWidth_ <= 0 || cursorHeight_ <= 0) return;
  Window rootReturn, childReturn;
  int rootX, rootY, winX, winY;
  unsigned int mask;
  if (!XQueryPointer(display_->get(), root_, &rootReturn, &childReturn, &rootX, &rootY, &winX,
                     &winY, &mask)) {
    return;  // pointer on another screen
  }
  int left = rootX - cursorHotX_;
  int top = rootY - cursorHotY_;
  uint8_t* base = reinterpret_cast<uint8_t*>(image_->image()->data);
  const int stride = image_->image()->bytes_per_line;
  for (int cy = 0; cy < cursorHeight_; cy++) {
    int y = top + cy;
    if (y < 0 || y >= height_) continue;
    uint32_t* row = reinterpret_cast<uint32_t*>(base + static_cast<size_t>(y) * stride);
    const uint32_t* src = cursorPixels_.data() + static_cast<size_t>(cy) * cursorWidth_;
    for (int cx = 0; cx < cursorWidth_; cx++) {
      int x = left + cx;
      if (x < 0 || x >= width_) continue;
      uint32_t s = src[cx];
      uint32_t a = s >> 24;
      if (a == 0) continue;
      if (a == 255) {
        row[x] = s & 0x00ffffff;
        continue;
      }
      // Premultiplied "over": dst = src + dst * (255 - a) / 255, per channel.
      uint32_t d = row[x];
      uint32_t inv = 255 - a;
      uint32_t out = 0;
      for (int shift = 0; shift <= 16; shift += 8) {
        uint32_t sc = (s >> shift) & 0xff;
        uint32_t dc = (d >> shift) & 0xff;
        uint32_t t = dc * inv + 128;
        uint32_t c = sc + ((t + (t >> 8)) >> 8);
        out |= (c > 255 ? 255 : c) << shift;
      }
      row[x] = out;
    }
  }
}

}  // namespace deskcast
