// Captures one output of a Wayland compositor into SHM buffers with
//  - ext-image-copy-capture-v1 on an ext-image-capture-source-v1 output source (the standard:
//    sway >= 1.10, labwc >= 0.19, ...), or
//  - wlr-screencopy-unstable-v1 v3 copy_with_damage (wlroots compositors before that: sway 1.7).
//
// Change-driven: waitFd() is the connection's fd. One copy is in flight at a time, into the
// buffer the encoder is not reading; both protocols complete it only once the output has changed
// (wlr copy_with_damage; an ext frame after the session's first), so a finished copy is news:
// onWaitFdReadable() says a frame is due, grab() hands it over with the compositor's damage as
// the dirty rectangles and asks for the next. A still screen completes no copy: grab() (for a
// keyframe) hands over the last one again with nothing dirty, and nothing is encoded.
// Two buffers in one memfd pool; a size change rebuilds the two wl_buffers in the same pool
// (grown if needed) on the same connection and session, so a compositor that resizes its output
// costs nothing that accumulates. XRGB8888 / ARGB8888 SHM data is little-endian B,G,R,X: handed
// to the encoder without a copy — unless the output is turned (wl_output transform 90/180/270,
// flipped): the compositor's buffer is then in the output's framebuffer orientation and is turned
// upright into a third buffer (sized on reconfiguration, never per frame), so the picture and its
// size are what a viewer and absolute pointer motion see (a 90° output is portrait).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/screen_source.h"
#include "wayland/shm_pool.h"
#include "wayland/wayland_connection.h"

struct wl_shm;
struct wl_buffer;
struct zwlr_screencopy_manager_v1;
struct zwlr_screencopy_frame_v1;
struct ext_image_copy_capture_manager_v1;
struct ext_output_image_capture_source_manager_v1;
struct ext_image_capture_source_v1;
struct ext_image_copy_capture_session_v1;
struct ext_image_copy_capture_frame_v1;

namespace deskcast {

class WaylandScreenSource final : public ScreenSource {
 public:
  enum class Protocol { kAuto, kExtImageCopyCapture, kWlrScreencopy };

  // `socket`: a name in $XDG_RUNTIME_DIR or an absolute path; `output`: an output name
  // ("HEADLESS-1"), empty for the first. Nothing is opened before open().
  WaylandScreenSource(std::string socket, std::string output, bool drawCursor, Protocol protocol);
  ~WaylandScreenSource() override;
  WaylandScreenSource(const WaylandScreenSource&) = delete;
  WaylandScreenSource& operator=(const WaylandScreenSource&) = delete;

  // Connects, picks the protocol (kAuto: ext, else wlr; the reason for a skip is in openInfo()),
  // and waits for the first frame. Throws DeskcastError (ERR_DISPLAY_OPEN: no compositor, no
  // capture protocol, no such output; ERR_UNSUPPORTED_VISUAL: no XRGB/ARGB SHM format).
  void open() override;
  GrabResult grab(BgrxFrame* frame) override;

  int width() const noexcept override { return width_; }
  int height() const noexcept override { return height_; }
  const std::string& lastError() const noexcept override { return lastError_; }
  const std::string& displayName() const noexcept override { return displayName_; }
  bool cursorSupported() const noexcept override { return drawCursor_; }
  int waitFd() const noexcept override { return connection_ ? connection_->fd() : -1; }
  bool onWaitFdReadable() override;
  bool changeDriven() const noexcept override { return true; }
  std::string openInfo() const override { return openInfo_; }
  const char* backend() const noexcept override {
    return inUse_ == Protocol::kWlrScreencopy || wanted_ == Protocol::kWlrScreencopy ? "wlr-screencopy" : "ext-image-copy-capture";
  }

  // For tests and logs: which protocol open() chose, and counters.
  Protocol protocolInUse() const noexcept { return inUse_; }
  uint64_t framesCopied() const noexcept { return framesCopied_; }
  uint64_t reconfigurations() const noexcept { return reconfigurations_; }

  // wl listener callbacks (public for the listener tables only).
  struct Callbacks;

 private:
  struct Buffer {
    wl_buffer* buffer = nullptr;
    size_t offset = 0;
    // ext: the part of this buffer that is older than the newest frame (bounding box); the
    // compositor must redraw it on the next capture into this buffer.
    int32_t staleX0 = 0, staleY0 = 0, staleX1 = 0, staleY1 = 0;
    int64_t presentedNs = 0;
    // What the copy into this buffer changed since the copy before it (the compositor's damage,
    // buffer coordinates): everything (`full`: a plain copy, new buffers), or these rectangles.
    bool full = true;
    int dirtyCount = 0;
    PixelRect dirty[kMaxDirtyRects];
    int32_t transform = 0;  // wl_output transform of the picture in it
  };
  // The buffer layout the compositor asks for.
  struct Constraints {
    int width = 0, height = 0, stride = 0;
    uint32_t format = 0;
    bool valid() const noexcept { return width > 0 && height > 0 && stride >= width * 4; }
    bool operator==(const Constraints& o) const noexcept {
      return width == o.width && height == o.height && stride == o.stride && format == o.format;
    }
  };
  enum class Copy { kIdle, kNegotiating, kCopying, kReady, kFailed };

  void openExt();
  void openWlr();
  void allocateBuffers(const Constraints& c);
  void destroyBuffers() noexcept;
  void requestCopy();  // into the buffer the encoder does not hold
  void copyNegotiatedWlrFrame();  // wlr: the frame waiting in kNegotiating, into new buffers
  void destroyFrame() noexcept;
  void markStale(int target, int32_t x, int32_t y, int32_t w, int32_t h) noexcept;
  bool waitForCopy(int timeoutMs);
  void startCopyInto(int index, bool full) noexcept;  // its damage record starts empty (or full)
  void addDamage(int index, int32_t x, int32_t y, int32_t w, int32_t h) noexcept;
  // `fresh`: a copy not handed over before (its damage is the news); else the same picture again.
  GrabResult deliver(BgrxFrame* frame, int index, GrabResult result, bool fresh);
  void sizeFor(int32_t transform);  // width_/height_: the buffers' size, turned upright

  const std::string socket_;
  std::string outputName_;  // as asked; the chosen output's name after open()
  const bool drawCursor_;
  const Protocol wanted_;
  std::string displayName_;
  std::string openInfo_;
  std::string lastError_;

  std::unique_ptr<WaylandConnection> connection_;
  WaylandOutput* output_ = nullptr;
  Protocol inUse_ = Protocol::kAuto;
  wl_shm* shm_ = nullptr;
  uint32_t shmFormats_ = 0;  // bit 0: ARGB8888, bit 1: XRGB8888 (from wl_shm.format)
  // wlr-screencopy
  zwlr_screencopy_manager_v1* wlrManager_ = nullptr;
  zwlr_screencopy_frame_v1* wlrFrame_ = nullptr;
  uint32_t wlrVersion_ = 0;
  bool wlrCopiedOnce_ = false;  // the first copy is a plain copy (nothing to wait for)
  // ext-image-copy-capture
  ext_image_copy_capture_manager_v1* extManager_ = nullptr;
  ext_output_image_capture_source_manager_v1* extSourceManager_ = nullptr;
  ext_image_capture_source_v1* extSource_ = nullptr;
  ext_image_copy_capture_session_v1* extSession_ = nullptr;
  ext_image_copy_capture_frame_v1* extFrame_ = nullptr;
  bool extSessionStopped_ = false;

  // What the compositor asks for now (pending_) vs. what the buffers were made for (current_).
  Constraints pending_;
  Constraints current_;
  bool constraintsDone_ = false;  // ext session `done` / wlr `buffer_done` seen for pending_
  WaylandShmPool pool_;
  std::array<Buffer, 2> buffers_{};
  int delivered_ = -1;   // the buffer the encoder may be reading (until the next grab)
  int newest_ = -1;      // the newest finished copy
  int target_ = 0;       // the buffer of the copy in flight
  Copy copy_ = Copy::kIdle;
  int32_t frameTransform_ = 0;     // ext: the transform event of the frame in flight
  bool nextCopyFull_ = true;       // the next copy's damage cannot be trusted (first, after a failure)
  int32_t deliveredTransform_ = -1;  // the transform the delivered pictures are turned from
  std::vector<uint8_t> turned_;     // the upright picture of a turned output
  int width_ = 0;                  // what grab() delivers: the buffers' size, turned upright
  int height_ = 0;
  uint64_t framesCopied_ = 0;
  uint64_t reconfigurations_ = 0;
};

}  // namespace deskcast
