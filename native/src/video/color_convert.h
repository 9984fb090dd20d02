// BGRX (X11 ZPixmap, 32 bpp little-endian) → YUV 4:2:0 (I420 for software/NVENC encoders,
// NV12 for VAAPI), BT.601 limited range, into the encoder's persistent input picture.
//
// Same size: libyuv (ARGBToI420 / ARGBToNV12, SIMD picked at run time) on the rectangles the
// source refreshed only; measured 0.11 ms per 1280x720 frame here against 0.40 ms for the
// hand-written loop it replaced. Different size: libswscale scales and converts the whole
// picture in one pass with its cheapest filter (SWS_FAST_BILINEAR).
//
// The cursor is drawn here, not by the source: its old area is restored from the source's
// clean picture and it is blended at its new place, so cursor motion converts two small
// rectangles instead of the screen.
#pragma once

#include <cstdint>
#include <vector>

#include "capture/screen_source.h"
#include "video/ffmpeg_util.h"

namespace deskcast {

class ColorConverter {
 public:
  // (Re)configures for a source and destination geometry; allocates only here. The next
  // update() converts the whole picture. `dstFormat` is AV_PIX_FMT_YUV420P or AV_PIX_FMT_NV12.
  // Throws DeskcastError on failure.
  void configure(int srcWidth, int srcHeight, int dstWidth, int dstHeight,
                 AVPixelFormat dstFormat);

  // Brings `dst` (whose size/format match configure(), and whose pixels persist between
  // calls) up to date with `frame`: what the source refreshed, then the cursor. Returns false
  // when nothing visible changed (nothing need be encoded).
  bool update(const BgrxFrame& frame, AVFrame* dst) noexcept;

  // Converts the whole picture, cursor apart (benchmarks, tests).
  void convertAll(const uint8_t* bgrx, int srcStride, AVFrame* dst) noexcept;

  bool scaling() const noexcept { return sws_ != nullptr; }
  // Pixels converted by the last update() (a measure of how partial it was).
  int64_t lastConvertedPixels() const noexcept { return lastPixels_; }

 private:
  PixelRect evenRect(const PixelRect& r) const noexcept;
  void convertRect(const uint8_t* bgrx, int srcStride, PixelRect r, AVFrame* dst) noexcept;
  PixelRect blendCursorIntoScratch(const BgrxFrame& frame) noexcept;

  int srcWidth_ = 0, srcHeight_ = 0, dstWidth_ = 0, dstHeight_ = 0;
  AVPixelFormat dstFormat_ = AV_PIX_FMT_NONE;
  SwsContextPtr sws_;
  bool needFull_ = true;
  PixelRect lastCursor_;          // even-aligned area the cursor covers in `dst`
  std::vector<uint8_t> scratch_;  // BGRX of the cursor's area with the cursor blended in
  int64_t lastPixels_ = 0;
};

}  // namespace deskcast
