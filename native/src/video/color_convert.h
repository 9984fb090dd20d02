// BGRX (X11 ZPixmap, 32 bpp little-endian) → YUV 4:2:0 (I420 for software/NVENC encoders,
// NV12 for VAAPI), BT.601 limited range.
//
// Same size: a hand-written fixed-point loop (auto-vectorized, AVX2 clone picked at run time),
// ~4x cheaper than libswscale here. Different size: libswscale scales and converts in one pass
// with its cheapest filter (SWS_FAST_BILINEAR).
#pragma once

#include <cstdint>

#include "video/ffmpeg_util.h"

namespace deskcast {

// Converts the top-left (width & ~1) x (height & ~1) pixels.
void convertBgrxToI420(const uint8_t* src, int srcStride, int width, int height, uint8_t* y,
                       int yStride, uint8_t* u, int uStride, uint8_t* v, int vStride) noexcept;
void convertBgrxToNv12(const uint8_t* src, int srcStride, int width, int height, uint8_t* y,
                       int yStride, uint8_t* uv, int uvStride) noexcept;

class ColorConverter {
 public:
  // (Re)configures for a source and destination geometry; allocates only here.
  // `dstFormat` is AV_PIX_FMT_YUV420P or AV_PIX_FMT_NV12. Throws DeskcastError on failure.
  void configure(int srcWidth, int srcHeight, int dstWidth, int dstHeight,
                 AVPixelFormat dstFormat);

  // Converts (and scales if configured so) into `dst`, whose size/format match configure().
  void convert(const uint8_t* bgrx, int srcStride, AVFrame* dst) noexcept;

  bool scaling() const noexcept { return sws_ != nullptr; }

 private:
  int srcWidth_ = 0, srcHeight_ = 0, dstWidth_ = 0, dstHeight_ = 0;
  AVPixelFormat dstFormat_ = AV_PIX_FMT_NONE;
  SwsContextPtr sws_;
};

}  // namespace deskcast
