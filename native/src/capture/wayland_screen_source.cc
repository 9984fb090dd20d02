#include "capture/wayland_screen_source.h"

#include <algorithm>

#include "common/errors.h"
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
    s->destroyFrame();
    s->copy_ = Copy::kReady;
    s->newest_ = s->target_;
    s->framesCopied_++;
    s->wlrCopiedOnce_ = true;
  }
  static void wlrFailed(void* data, zwlr_screencopy_frame_v1*) {
    auto* s = static_cast<S*>(data);
    s->destroyFrame();
    s->copy_ = Copy::kFailed;
    s->lastError_ = "the compositor failed a wlr-screencopy copy of output " + s->outputName_ +
                    " (the output may have been disabled or resized); retrying";
  }
  static void wlrDamage(void*, zwlr_screencopy_frame_v1*, uint32_t, uint32_t, uint32_t, uint32_t) {
    // Each copy is a whole frame (the other buffer is never patched), so the region is not needed.
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
    if (s->wlrCopiedOnce_) zwlr_screencopy_frame_v1_copy_with_damage(s->wlrFrame_, b.buffer);
    else zwlr_screencopy_frame_v1_copy(s->wlrFrame_, b.buffer);
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
  static void extTransform(void*, ext_image_copy_capture_frame_v1*, uint32_t) {}
  static void extDamage(void* data, ext_image_copy_capture_frame_v1*, int32_t x, int32_t y,
                        int32_t w, int32_t h) {
    auto* s = static_cast<S*>(data);
    // What changed in this frame is now stale in the other buffer.
    s->markStale(1 - s->target_, x, y, w, h);
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
    s->destroyFrame();
    s->copy_ = Copy::kReady;
    s->newest_ = s->target_;
    s->framesCopied_++;
  }
  static void extFailed(void* data, ext_image_copy_capture_frame_v1*, uint32_t reason) {
    auto* s = static_cast<S*>(data);
    s->destroyFrame();
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
  displayName_ = "wayland:" + socket_ + " output " + outputName_;
  openInfo_ = std::string("Wayland capture with ") + protocolName(inUse_) +
              (inUse_ == Protocol::kWlrScreencopy ? " v" + std::to_string(wlrVersion_) + " copy_with_damage" : "") +
              ", SHM " + (current_.format == WL_SHM_FORMAT_XRGB8888 ? "XRGB8888" : "ARGB8888") +
              ", cursor " + (drawCursor_ ? "painted by the compositor" : "off") + skipped;
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
  }
  current_ = c;
  width_ = c.width;
  height_ = c.height;
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
  // A change after a still screen is grabbed at once (latency); while the screen keeps changing
  // the pipeline's own cadence picks the newest copy (never the compositor's refresh rate).
  return copy_ == Copy::kReady && lastGrabWasStill_;
}

ScreenSource::GrabResult WaylandScreenSource::deliver(BgrxFrame* frame, int index, GrabResult result) noexcept {
  delivered_ = index;
  frame->pixels = pool_.data() + buffers_[index].offset;
  frame->width = current_.width;
  frame->height = current_.height;
  frame->stride = current_.stride;
  frame->presentedNs = buffers_[index].presentedNs;
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
    const int fresh = newest_;
    GrabResult r = deliver(frame, fresh, GrabResult::kResized);
    lastGrabWasStill_ = false;
    requestCopy();
    return r;
  }

  if (copy_ == Copy::kFailed) {
    requestCopy();  // the failure was logged through lastError_ by the last grab
    if (newest_ < 0) return GrabResult::kFailed;
  }
  if (copy_ == Copy::kReady) {
    const int fresh = newest_;
    GrabResult r = deliver(frame, fresh, GrabResult::kOk);
    lastGrabWasStill_ = false;
    requestCopy();
    return r;
  }
  // Nothing new since the last grab (a still screen): the same pixels again.
  lastGrabWasStill_ = true;
  if (newest_ < 0) {
    lastError_ = "no frame from output " + outputName_ + " yet";
    return GrabResult::kFailed;
  }
  return deliver(frame, newest_, GrabResult::kOk);
}

}  // namespace deskcast
