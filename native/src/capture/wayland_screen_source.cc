#include "capture/wayland_screen_source.h"

#include <libyuv/rotate_argb.h>

#include <algorithm>

#include "common/errors.h"
#include "wayland/output_transform.h"
#include "ext-image-capture-source-v1-client.h"
#include "ext-image-copy-capture-v1-client.h"
#include "wlr-screencopy-unstable-v1-client.h"

namespace deskcast {

namespace {

constexpr int kOpenTimeoutMs = 5000;
// A resized frame is waited for inside grab(); the compositor copies on its next output frame.
constexpr int kResizeCopyTimeoutMs = 1000;

const char* protocolName(WaylandScreenSource::Protocol p) {
  switch (p) {
    case WaylandScreenSource::Protocol::kExtImageCopyCapture: return "ext-image-copy-capture-v1";
    case WaylandScreenSource::Protocol::kWlrScreencopy: return "wlr-screencopy-unstable-v1";
    case WaylandScreenSource::Protocol::kAuto: break;
  }
  return "auto";
}

bool isBgrx(uint32_t format) {
  return format == WL_SHM_FORMAT_XRGB8888 || format == WL_SHM_FORMAT_ARGB8888;
}

int64_t timespecNs(uint32_t secHi, uint32_t secLo, uint32_t nsec) {
  const uint64_t sec = (static_cast<uint64_t>(secHi) << 32) | secLo;
  return static_cast<int64_t>(sec) * 1000000000LL + nsec;
}

// Turns the framebuffer `src` (srcWidth x srcHeight) of an output with `transform` back into
// the upright picture in `dst` (wayland/output_transform.h says how the compositor laid it).
void turnUpright(const uint8_t* src, int srcStride, int srcWidth, int srcHeight, int32_t transform,
                 uint8_t* dst, int dstStride) noexcept {
  const bool flipped = (transform & 4) != 0;
  const int quarterTurns = transform & 3;
  if (!flipped && quarterTurns != 0) {
    // Undoing k counter-clockwise quarter turns = k clockwise ones (libyuv turns clockwise).
    const libyuv::RotationMode mode =
        quarterTurns == 1 ? libyuv::kRotate90 : quarterTurns == 2 ? libyuv::kRotate180 : libyuv::kRotate270;
    libyuv::ARGBRotate(src, srcStride, dst, dstStride, srcWidth, srcHeight, mode);
    return;
  }
  // Flipped outputs (rare): pixel by pixel.
  const int width = quarterTurned(transform) ? srcHeight : srcWidth;  // upright size
  const int height = quarterTurned(transform) ? srcWidth : srcHeight;
  for (int y = 0; y < height; y++) {
    auto* out = reinterpret_cast<uint32_t*>(dst + static_cast<size_t>(y) * dstStride);
    for (int x = 0; x < width; x++) {
      int fx = 0, fy = 0;
      uprightToFramebuffer(transform, width, height, x, y, 1, &fx, &fy);
      out[x] = *reinterpret_cast<const uint32_t*>(src + static_cast<size_t>(fy) * srcStride + static_cast<size_t>(fx) * 4);
    }
  }
}

}  // namespace

// Listener callbacks; `data` is the source.
struct WaylandScreenSource::Callbacks {
  using S = WaylandScreenSource;

  static void shmFormat(void* data, wl_shm*, uint32_t format) {
    auto* s = static_cast<S*>(data);
    if (format == WL_SHM_FORMAT_ARGB8888) s->shmFormats_ |= 1;
    if (format == WL_SHM_FORMAT_XRGB8888) s->shmFormats_ |= 2;
  }

  // --- wlr-screencopy frame ---
  static void wlrBuffer(void* data, zwlr_screencopy_frame_v1*, uint32_t format, uint32_t width,
                        uint32_t height, uint32_t stride) {
    auto* s = static_cast<S*>(data);
    // Several buffer events may come (v3); keep a BGRX one.
    if (!isBgrx(format) && s->pending_.valid()) return;
    s->pending_ = {static_cast<int>(width), static_cast<int>(height), static_cast<int>(stride), format};
    if (s->wlrVersion_ < ZWLR_SCREENCOPY_FRAME_V1_BUFFER_DONE_SINCE_VERSION) wlrBufferDone(data, nullptr);
  }
  static void wlrFlags(void*, zwlr_screencopy_frame_v1*, uint32_t) {
    // Y_INVERT is only ever set for GPU (DMA-BUF) copies; SHM copies are top-down.
  }
  static void wlrReady(void* data, zwlr_screencopy_frame_v1*, uint32_t secHi, uint32_t secLo,
                       uint32_t nsec) {
    auto* s = static_cast<S*>(data);
    s->buffers_[s->target_].presentedNs = timespecNs(secHi, secLo, nsec);
    // wlr-screencopy says nothing of the transform: the output's (its geometry event comes with
    // the commit that changed it, before frames rendered that way).
    s->buffers_[s->target_].transform = s->output_->transform;
    s->destroyFrame();
    s->copy_ = Copy::kReady;
    s->newest_ = s->target_;
    s->framesCopied_++;
    s->wlrCopiedOnce_ = true;
  }
  static void wlrFailed(void* data, zwlr_screencopy_frame_v1*) {
    auto* s = static_cast<S*>(data);
    s->destroyFrame();
    s->nextCopyFull_ = true;
    s->copy_ = Copy::kFailed;
    s->lastError_ = "the compositor failed a wlr-screencopy copy of output " + s->outputName_ +
                    " (the output may have been disabled or resized); retrying";
  }
  static void wlrDamage(void* data, zwlr_screencopy_frame_v1*, uint32_t x, uint32_t y, uint32_t w,
                        uint32_t h) {
    // Each copy is a whole frame; the damage says what the pipeline must re-convert.
    auto* s = static_cast<S*>(data);
    s->addDamage(s->target_, static_cast<int32_t>(x), static_cast<int32_t>(y), static_cast<int32_t>(w),
                 static_cast<int32_t>(h));
  }
  static void wlrDmabuf(void*, zwlr_screencopy_frame_v1*, uint32_t, uint32_t, uint32_t) {}
  static void wlrBufferDone(void* data, zwlr_screencopy_frame_v1*) {
    auto* s = static_cast<S*>(data);
    s->constraintsDone_ = true;
    if (!s->pending_.valid() || !isBgrx(s->pending_.format)) {
      s->destroyFrame();
      s->copy_ = Copy::kFailed;
      s->lastError_ = "the compositor offers no XRGB8888/ARGB8888 SHM buffer for output " +
                      s->outputName_;
      return;
    }
    if (!(s->pending_ == s->current_)) return;  // grab() re-allocates, then copies
    Buffer& b = s->buffers_[s->target_];
    // With damage: the compositor completes the copy only once the output changed (change-driven).
    if (s->wlrCopiedOnce_) zwlr_screencopy_frame_v1_copy_with_damage(s->wlrFrame_, b.buffer);
    else zwlr_screencopy_frame_v1_copy(s->wlrFrame_, b.buffer);
    s->startCopyInto(s->target_, !s->wlrCopiedOnce_);
    s->copy_ = Copy::kCopying;
  }

  // --- ext-image-copy-capture session ---
  static void extBufferSize(void* data, ext_image_copy_capture_session_v1*, uint32_t w, uint32_t h) {
    auto* s = static_cast<S*>(data);
    s->pending_.width = static_cast<int>(w);
    s->pending_.height = static_cast<int>(h);
    s->pending_.stride = static_cast<int>(w) * 4;
    s->constraintsDone_ = false;
  }
  static void extShmFormat(void* data, ext_image_copy_capture_session_v1*, uint32_t format) {
    auto* s = static_cast<S*>(data);
    // Prefer XRGB8888 (no alpha to ignore), take ARGB8888 otherwise.
    if (format == WL_SHM_FORMAT_XRGB8888 || (format == WL_SHM_FORMAT_ARGB8888 && !isBgrx(s->pending_.format))) {
      s->pending_.format = format;
    }
  }
  static void extDmabufDevice(void*, ext_image_copy_capture_session_v1*, wl_array*) {}
  static void extDmabufFormat(void*, ext_image_copy_capture_session_v1*, uint32_t, wl_array*) {}
  static void extDone(void* data, ext_image_copy_capture_session_v1*) {
    static_cast<S*>(data)->constraintsDone_ = true;
  }
  static void extStopped(void* data, ext_image_copy_capture_session_v1*) {
    auto* s = static_cast<S*>(data);
    s->extSessionStopped_ = true;
    s->lastError_ = "the compositor stopped the capture session of output " + s->outputName_ +
                    " (the output was removed?)";
  }

  // --- ext-image-copy-capture frame ---
  static void extTransform(void* data, ext_image_copy_capture_frame_v1*, uint32_t transform) {
    static_cast<S*>(data)->frameTransform_ = static_cast<int32_t>(transform);
  }
  static void extDamage(void* data, ext_image_copy_capture_frame_v1*, int32_t x, int32_t y,
                        int32_t w, int32_t h) {
    auto* s = static_cast<S*>(data);
    // What changed in this frame is now stale in the other buffer, and news for the pipeline.
    s->markStale(1 - s->target_, x, y, w, h);
    s->addDamage(s->target_, x, y, w, h);
  }
  static void extPresentationTime(void* data, ext_image_copy_capture_frame_v1*, uint32_t secHi,
                                  uint32_t secLo, uint32_t nsec) {
    auto* s = static_cast<S*>(data);
    s->buffers_[s->target_].presentedNs = timespecNs(secHi, secLo, nsec);
  }
  static void extReady(void* data, ext_image_copy_capture_frame_v1*) {
    auto* s = static_cast<S*>(data);
    Buffer& b = s->buffers_[s->target_];
    b.staleX0 = b.staleY0 = b.staleX1 = b.staleY1 = 0;
    b.transform = s->frameTransform_;
    s->destroyFrame();
    s->copy_ = Copy::kReady;
    s->newest_ = s->target_;
    s->framesCopied_++;
  }
  static void extFailed(void* data, ext_image_copy_capture_frame_v1*, uint32_t reason) {
    auto* s = static_cast<S*>(data);
    s->destroyFrame();
    s->nextCopyFull_ = true;  // what changed meanwhile is not reported again
    s->copy_ = Copy::kFailed;
    if (reason == EXT_IMAGE_COPY_CAPTURE_FRAME_V1_FAILURE_REASON_BUFFER_CONSTRAINTS) {
      // The output changed size or format: the session's new constraints follow (or came).
      s->lastError_ = "the output's buffer constraints changed; re-allocating";
    } else if (reason == EXT_IMAGE_COPY_CAPTURE_FRAME_V1_FAILURE_REASON_STOPPED) {
      s->extSessionStopped_ = true;
      s->lastError_ = "the compositor stopped the capture session of output " + s->outputName_;
    } else {
      s->lastError_ = "the compositor failed an ext-image-copy-capture frame; retrying";
    }
  }
};

namespace {
const wl_shm_listener kShmListener = {WaylandScreenSource::Callbacks::shmFormat};

zwlr_screencopy_frame_v1_listener makeWlrFrameListener() {
  zwlr_screencopy_frame_v1_listener l{};
  using C = WaylandScreenSource::Callbacks;
  l.buffer = C::wlrBuffer;
  l.flags = C::wlrFlags;
  l.ready = C::wlrReady;
  l.failed = C::wlrFailed;
  l.damage = C::wlrDamage;
  l.linux_dmabuf = C::wlrDmabuf;
  l.buffer_done = C::wlrBufferDone;
  return l;
}
const zwlr_screencopy_frame_v1_listener kWlrFrameListener = makeWlrFrameListener();

ext_image_copy_capture_session_v1_listener makeExtSessionListener() {
  ext_image_copy_capture_session_v1_listener l{};
  using C = WaylandScreenSource::Callbacks;
  l.buffer_size = C::extBufferSize;
  l.shm_format = C::extShmFormat;
  l.dmabuf_device = C::extDmabufDevice;
  l.dmabuf_format = C::extDmabufFormat;
  l.done = C::extDone;
  l.stopped = C::extStopped;
  return l;
}
const ext_image_copy_capture_session_v1_listener kExtSessionListener = makeExtSessionListener();

ext_image_copy_capture_frame_v1_listener makeExtFrameListener() {
  ext_image_copy_capture_frame_v1_listener l{};
  using C = WaylandScreenSource::Callbacks;
  l.transform = C::extTransform;
  l.damage = C::extDamage;
  l.presentation_time = C::extPresentationTime;
  l.ready = C::extReady;
  l.failed = C::extFailed;
  return l;
}
const ext_image_copy_capture_frame_v1_listener kExtFrameListener = makeExtFrameListener();
}  // namespace

WaylandScreenSource::WaylandScreenSource(std::string socket, std::string output, bool drawCursor,
                                         Protocol protocol)
    : socket_(std::move(socket)),
      outputName_(std::move(output)),
      drawCursor_(drawCursor),
      wanted_(protocol),
      displayName_("wayland:" + socket_) {}

WaylandScreenSource::~WaylandScreenSource() {
  destroyFrame();
  destroyBuffers();
  if (extSession_) ext_image_copy_capture_session_v1_destroy(extSession_);
  if (extSource_) ext_image_capture_source_v1_destroy(extSource_);
  if (extSourceManager_) ext_output_image_capture_source_manager_v1_destroy(extSourceManager_);
  if (extManager_) ext_image_copy_capture_manager_v1_destroy(extManager_);
  if (wlrManager_) zwlr_screencopy_manager_v1_destroy(wlrManager_);
  if (shm_) wl_shm_destroy(shm_);
  // pool_ (declared before, destroyed after this body) and connection_ go last.
}

void WaylandScreenSource::open() {
  connection_ = WaylandConnection::connect(socket_, kOpenTimeoutMs);
  output_ = connection_->findOutput(outputName_);
  if (!output_) {
    throw DeskcastError(errc::kDisplayOpen,
                        outputName_.empty()
                            ? "Wayland display '" + socket_ + "' has no output to capture"
                            : "Wayland display '" + socket_ + "' has no output named '" + outputName_ +
                                  "'; its outputs: " + connection_->outputNames() +
                                  " (pass one of them as --output, or none for the first)");
  }
  const std::string chosenOutput = output_->name.empty() ? std::string("(first output)") : output_->name;
  outputName_ = chosenOutput;  // for messages from here on
  shm_ = static_cast<wl_shm*>(connection_->bind(&wl_shm_interface, 1, 1));
  if (!shm_) throw DeskcastError(errc::kDisplayOpen, "Wayland display '" + socket_ + "' offers no wl_shm");
  wl_shm_add_listener(shm_, &kShmListener, this);

  const bool hasExt = connection_->findGlobal(ext_image_copy_capture_manager_v1_interface.name) &&
                      connection_->findGlobal(ext_output_image_capture_source_manager_v1_interface.name);
  const WaylandGlobal* wlr = connection_->findGlobal(zwlr_screencopy_manager_v1_interface.name);
  const bool hasWlr = wlr && wlr->version >= 2;
  std::string skipped;
  if (wanted_ != Protocol::kWlrScreencopy && hasExt) {
    inUse_ = Protocol::kExtImageCopyCapture;
  } else if (wanted_ != Protocol::kExtImageCopyCapture && hasWlr) {
    inUse_ = Protocol::kWlrScreencopy;
    if (wanted_ == Protocol::kAuto) {
      skipped = "; ext-image-copy-capture-v1 skipped: the compositor does not offer it";
    }
  } else {
    const std::string want = wanted_ == Protocol::kAuto
                                 ? std::string("ext-image-copy-capture-v1 or wlr-screencopy-unstable-v1 (v2+)")
                                 : protocolName(wanted_);
    throw DeskcastError(errc::kDisplayOpen,
                        "Wayland display '" + socket_ + "' offers no " + want +
                            " (GNOME and KDE capture through xdg-desktop-portal, not covered here); "
                            "it offers: " + connection_->globalsSummary());
  }
  if (inUse_ == Protocol::kExtImageCopyCapture) openExt();
  else openWlr();

  // The first frame: width()/height() are known and the first grab has pixels.
  requestCopy();
  if (!waitForCopy(kOpenTimeoutMs)) {
    throw DeskcastError(errc::kDisplayOpen, "no first frame from output " + outputName_ + " of '" +
                                                socket_ + "' within " + std::to_string(kOpenTimeoutMs) +
                                                " ms: " + (lastError_.empty() ? "no answer" : lastError_));
  }
  // The first picture's orientation sets the size grab() delivers (a turned output's is swapped).
  deliveredTransform_ = buffers_[newest_].transform;
  sizeFor(deliveredTransform_);
  displayName_ = "wayland:" + socket_ + " output " + outputName_;
  openInfo_ = std::string("Wayland capture with ") + protocolName(inUse_) +
              (inUse_ == Protocol::kWlrScreencopy ? " v" + std::to_string(wlrVersion_) + " copy_with_damage" : "") +
              ", SHM " + (current_.format == WL_SHM_FORMAT_XRGB8888 ? "XRGB8888" : "ARGB8888") +
              ", change-driven (the compositor's damage), cursor " +
              (drawCursor_ ? "painted by the compositor" : "off") +
              (deliveredTransform_ != WL_OUTPUT_TRANSFORM_NORMAL
                   ? ", output transform " + std::to_string(deliveredTransform_) + " turned upright"
                   : std::string()) +
              skipped;
  lastError_.clear();
}

void WaylandScreenSource::openExt() {
  extManager_ = static_cast<ext_image_copy_capture_manager_v1*>(
      connection_->bind(&ext_image_copy_capture_manager_v1_interface, 1, 1));
  extSourceManager_ = static_cast<ext_output_image_capture_source_manager_v1*>(
      connection_->bind(&ext_output_image_capture_source_manager_v1_interface, 1, 1));
  extSource_ = ext_output_image_capture_source_manager_v1_create_source(extSourceManager_, output_->proxy);
  extSession_ = ext_image_copy_capture_manager_v1_create_session(
      extManager_, extSource_, drawCursor_ ? EXT_IMAGE_COPY_CAPTURE_MANAGER_V1_OPTIONS_PAINT_CURSORS : 0);
  ext_image_copy_capture_session_v1_add_listener(extSession_, &kExtSessionListener, this);
  if (!connection_->dispatchUntil([&] { return constraintsDone_ || extSessionStopped_; }, kOpenTimeoutMs) ||
      extSessionStopped_) {
    throw DeskcastError(errc::kDisplayOpen, "the ext-image-copy-capture session of output " + outputName_ +
                                                " did not start: " +
                                                (lastError_.empty() ? connection_->errorText() : lastError_));
  }
  if (!pending_.valid()) {
    throw DeskcastError(errc::kDisplayOpen, "output " + outputName_ + " has no size to capture (" +
                                                std::to_string(pending_.width) + "x" + std::to_string(pending_.height) +
                                                "): is it enabled? its compositor could not render it");
  }
  if (!isBgrx(pending_.format)) {
    throw DeskcastError(errc::kUnsupportedVisual,
                        "output " + outputName_ + " offers no XRGB8888/ARGB8888 SHM buffers (only DMA-BUF "
                        "or other formats), which this capture needs");
  }
  allocateBuffers(pending_);
}

void WaylandScreenSource::openWlr() {
  wlrManager_ = static_cast<zwlr_screencopy_manager_v1*>(
      connection_->bind(&zwlr_screencopy_manager_v1_interface, 2, 3, &wlrVersion_));
  // Buffers are allocated when the first frame tells their layout (requestCopy → buffer_done).
}

void WaylandScreenSource::allocateBuffers(const Constraints& c) {
  destroyBuffers();
  const size_t frameBytes = static_cast<size_t>(c.stride) * static_cast<size_t>(c.height);
  pool_.reserve(shm_, frameBytes * buffers_.size());
  for (size_t i = 0; i < buffers_.size(); i++) {
    Buffer& b = buffers_[i];
    b.offset = frameBytes * i;
    b.buffer = wl_shm_pool_create_buffer(pool_.pool(), static_cast<int32_t>(b.offset), c.width, c.height,
                                         c.stride, c.format);
    // Everything is stale in a new buffer.
    b.staleX0 = 0;
    b.staleY0 = 0;
    b.staleX1 = c.width;
    b.staleY1 = c.height;
    b.presentedNs = 0;
    b.full = true;
    b.dirtyCount = 0;
    b.transform = output_ ? output_->transform : 0;
  }
  current_ = c;
  sizeFor(deliveredTransform_ >= 0 ? deliveredTransform_ : buffers_[0].transform);
  nextCopyFull_ = true;
  delivered_ = -1;
  newest_ = -1;
  target_ = 0;
}

void WaylandScreenSource::destroyBuffers() noexcept {
  for (Buffer& b : buffers_) {
    if (b.buffer) wl_buffer_destroy(b.buffer);
    b.buffer = nullptr;
  }
}

void WaylandScreenSource::destroyFrame() noexcept {
  if (wlrFrame_) zwlr_screencopy_frame_v1_destroy(wlrFrame_);
  wlrFrame_ = nullptr;
  if (extFrame_) ext_image_copy_capture_frame_v1_destroy(extFrame_);
  extFrame_ = nullptr;
}

void WaylandScreenSource::markStale(int target, int32_t x, int32_t y, int32_t w, int32_t h) noexcept {
  Buffer& b = buffers_[target];
  if (b.staleX1 <= b.staleX0 || b.staleY1 <= b.staleY0) {
    b.staleX0 = x;
    b.staleY0 = y;
    b.staleX1 = x + w;
    b.staleY1 = y + h;
    return;
  }
  b.staleX0 = std::min(b.staleX0, x);
  b.staleY0 = std::min(b.staleY0, y);
  b.staleX1 = std::max(b.staleX1, x + w);
  b.staleY1 = std::max(b.staleY1, y + h);
}

void WaylandScreenSource::startCopyInto(int index, bool full) noexcept {
  Buffer& b = buffers_[index];
  b.full = full || nextCopyFull_;
  b.dirtyCount = 0;
  nextCopyFull_ = false;
}

// Merges into an overlapping rectangle, or appends; past kMaxDirtyRects everything becomes one
// bounding box (as the X11 source does).
void WaylandScreenSource::addDamage(int index, int32_t x, int32_t y, int32_t w, int32_t h) noexcept {
  Buffer& b = buffers_[index];
  if (b.full) return;
  int x0 = std::max(0, x), y0 = std::max(0, y);
  int x1 = std::min(current_.width, x + w), y1 = std::min(current_.height, y + h);
  if (x1 <= x0 || y1 <= y0) return;
  for (int i = 0; i < b.dirtyCount; i++) {
    PixelRect& d = b.dirty[i];
    if (x0 <= d.x + d.width && d.x <= x1 && y0 <= d.y + d.height && d.y <= y1) {
      const int nx0 = std::min(x0, d.x), ny0 = std::min(y0, d.y);
      const int nx1 = std::max(x1, d.x + d.width), ny1 = std::max(y1, d.y + d.height);
      d = PixelRect{nx0, ny0, nx1 - nx0, ny1 - ny0};
      return;
    }
  }
  if (b.dirtyCount < kMaxDirtyRects) {
    b.dirty[b.dirtyCount++] = PixelRect{x0, y0, x1 - x0, y1 - y0};
    return;
  }
  for (int i = 0; i < b.dirtyCount; i++) {
    x0 = std::min(x0, b.dirty[i].x);
    y0 = std::min(y0, b.dirty[i].y);
    x1 = std::max(x1, b.dirty[i].x + b.dirty[i].width);
    y1 = std::max(y1, b.dirty[i].y + b.dirty[i].height);
  }
  b.dirty[0] = PixelRect{x0, y0, x1 - x0, y1 - y0};
  b.dirtyCount = 1;
}

void WaylandScreenSource::sizeFor(int32_t transform) {
  width_ = quarterTurned(transform) ? current_.height : current_.width;
  height_ = quarterTurned(transform) ? current_.width : current_.height;
  if (transform != WL_OUTPUT_TRANSFORM_NORMAL) {
    const size_t bytes = static_cast<size_t>(width_) * 4 * static_cast<size_t>(height_);
    if (turned_.size() < bytes) turned_.resize(bytes);  // on a reconfiguration, never per frame
  }
}

void WaylandScreenSource::requestCopy() {
  // Never into the buffer the encoder may still read.
  target_ = delivered_ == 0 ? 1 : 0;
  if (inUse_ == Protocol::kWlrScreencopy) {
    wlrFrame_ = zwlr_screencopy_manager_v1_capture_output(wlrManager_, drawCursor_ ? 1 : 0, output_->proxy);
    zwlr_screencopy_frame_v1_add_listener(wlrFrame_, &kWlrFrameListener, this);
    constraintsDone_ = false;
    copy_ = Copy::kNegotiating;  // buffer_done copies, or asks grab() to re-allocate first
  } else {
    Buffer& b = buffers_[target_];
    startCopyInto(target_, false);
    frameTransform_ = output_->transform;  // until the frame's own transform event
    extFrame_ = ext_image_copy_capture_session_v1_create_frame(extSession_);
    ext_image_copy_capture_frame_v1_add_listener(extFrame_, &kExtFrameListener, this);
    ext_image_copy_capture_frame_v1_attach_buffer(extFrame_, b.buffer);
    if (b.staleX1 > b.staleX0 && b.staleY1 > b.staleY0) {
      ext_image_copy_capture_frame_v1_damage_buffer(extFrame_, b.staleX0, b.staleY0, b.staleX1 - b.staleX0,
                                                    b.staleY1 - b.staleY0);
    }
    ext_image_copy_capture_frame_v1_capture(extFrame_);
    copy_ = Copy::kCopying;
  }
  connection_->flush();
}

void WaylandScreenSource::copyNegotiatedWlrFrame() {
  target_ = delivered_ == 0 ? 1 : 0;
  // A plain copy: new buffers hold nothing yet, so waiting for damage would be wrong.
  zwlr_screencopy_frame_v1_copy(wlrFrame_, buffers_[target_].buffer);
  startCopyInto(target_, true);
  copy_ = Copy::kCopying;
  connection_->flush();
}

bool WaylandScreenSource::waitForCopy(int timeoutMs) {
  for (int attempt = 0; attempt < 3; attempt++) {
    const bool answered = connection_->dispatchUntil(
        [&] {
          return copy_ == Copy::kReady || copy_ == Copy::kFailed || extSessionStopped_ ||
                 (copy_ == Copy::kNegotiating && constraintsDone_ && !(pending_ == current_));
        },
        timeoutMs);
    if (!answered || extSessionStopped_) return false;
    if (copy_ == Copy::kReady) return true;
    // New constraints (the first wlr frame, or a resize): buffers for them, then the copy.
    if (copy_ == Copy::kNegotiating) {
      if (!isBgrx(pending_.format)) {
        lastError_ = "the compositor offers no XRGB8888/ARGB8888 SHM buffer for output " + outputName_;
        return false;
      }
      if (current_.valid()) reconfigurations_++;
      allocateBuffers(pending_);
      copyNegotiatedWlrFrame();
      continue;
    }
    // Failed: re-allocate if the constraints moved, then try again.
    if (inUse_ == Protocol::kExtImageCopyCapture && constraintsDone_ && !(pending_ == current_) &&
        isBgrx(pending_.format)) {
      allocateBuffers(pending_);
      reconfigurations_++;
    }
    requestCopy();
  }
  return false;
}

bool WaylandScreenSource::onWaitFdReadable() {
  if (!connection_->dispatchAvailable()) return true;  // grab() reports the lost connection
  if (extSessionStopped_) return true;
  const bool resized = (copy_ == Copy::kNegotiating && constraintsDone_ && !(pending_ == current_)) ||
                       (inUse_ == Protocol::kExtImageCopyCapture && constraintsDone_ && !(pending_ == current_));
  if (resized || copy_ == Copy::kFailed) return true;
  // A finished copy means the output changed (both protocols wait for damage): a frame is due;
  // the pipeline paces it to --fps (never the compositor's refresh rate).
  return copy_ == Copy::kReady;
}

ScreenSource::GrabResult WaylandScreenSource::deliver(BgrxFrame* frame, int index, GrabResult result, bool fresh) {
  delivered_ = index;
  const Buffer& b = buffers_[index];
  bool full = fresh && (b.full || result == GrabResult::kResized);
  if (b.transform != deliveredTransform_) {
    // The output was turned: the upright size changes (portrait ↔ landscape) with no new buffers.
    const int oldWidth = width_, oldHeight = height_;
    deliveredTransform_ = b.transform;
    sizeFor(deliveredTransform_);
    if (width_ != oldWidth || height_ != oldHeight) result = GrabResult::kResized;
    fresh = true;
    full = true;
  }
  const uint8_t* pixels = pool_.data() + b.offset;
  if (deliveredTransform_ != WL_OUTPUT_TRANSFORM_NORMAL) {
    // Damage is in framebuffer coordinates: a turned picture is simply refreshed whole.
    if (fresh) turnUpright(pixels, current_.stride, current_.width, current_.height, deliveredTransform_, turned_.data(), width_ * 4);
    frame->pixels = turned_.data();
    frame->stride = width_ * 4;
    full = fresh;
  } else {
    frame->pixels = pixels;
    frame->stride = current_.stride;
  }
  frame->width = width_;
  frame->height = height_;
  frame->presentedNs = b.presentedNs;
  // The compositor paints the cursor into the picture; the pipeline draws none.
  frame->cursor = CursorImage{};
  frame->cursorChanged = false;
  frame->changedAtNs = 0;
  frame->full = full;
  frame->dirtyCount = fresh && !full ? b.dirtyCount : 0;
  std::copy(b.dirty, b.dirty + frame->dirtyCount, frame->dirty);
  return result;
}

ScreenSource::GrabResult WaylandScreenSource::grab(BgrxFrame* frame) {
  if (!connection_->dispatchAvailable() || connection_->lost()) {
    lastError_ = "lost the Wayland connection to '" + socket_ + "': " + connection_->errorText();
    return GrabResult::kConnectionLost;
  }
  if (extSessionStopped_) return GrabResult::kConnectionLost;

  // The output changed size (or format): new buffers in the same pool, then a fresh frame.
  const bool constraintsMoved = constraintsDone_ && pending_.valid() && !(pending_ == current_) &&
                                (inUse_ == Protocol::kExtImageCopyCapture || copy_ == Copy::kNegotiating);
  if (constraintsMoved) {
    if (!isBgrx(pending_.format)) {
      lastError_ = "output " + outputName_ + " now offers no XRGB8888/ARGB8888 SHM buffer";
      return GrabResult::kFailed;
    }
    allocateBuffers(pending_);
    reconfigurations_++;
    if (inUse_ == Protocol::kWlrScreencopy) {
      copyNegotiatedWlrFrame();  // the frame that announced the size is copied into the new buffers
    } else {
      destroyFrame();  // an ext frame in flight targets an old buffer (the compositor fails it anyway)
      requestCopy();
    }
    if (!waitForCopy(kResizeCopyTimeoutMs)) {
      if (connection_->lost() || extSessionStopped_) return GrabResult::kConnectionLost;
      if (lastError_.empty()) lastError_ = "no frame at the new size of output " + outputName_;
      copy_ = Copy::kFailed;
      return GrabResult::kFailed;
    }
    GrabResult r = deliver(frame, newest_, GrabResult::kResized, true);
    requestCopy();
    return r;
  }

  if (copy_ == Copy::kFailed) {
    requestCopy();  // the failure was logged through lastError_ by the last grab
    if (newest_ < 0) return GrabResult::kFailed;
  }
  if (copy_ == Copy::kReady) {
    GrabResult r = deliver(frame, newest_, GrabResult::kOk, true);
    requestCopy();
    return r;
  }
  // Nothing new since the last grab (a still screen; a keyframe is due): the same pixels again.
  if (newest_ < 0) {
    lastError_ = "no frame from output " + outputName_ + " yet";
    return GrabResult::kFailed;
  }
  return deliver(frame, newest_, GrabResult::kOk, false);
}

}  // namespace deskcast
