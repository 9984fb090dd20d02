#include "video/color_convert.h"

#include "common/errors.h"

namespace deskcast {
namespace {

// BT.601 limited-range coefficients (8-bit fixed point, as libyuv's ARGBToI420).
inline uint8_t lumaOf(uint32_t p) {
  uint32_t r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
  return static_cast<uint8_t>((66 * r + 129 * g + 25 * b + 0x1080) >> 8);
}

// Each clone is compiled for its ISA; the dynamic loader picks the best one for this CPU.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DESKCAST_TARGET_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DESKCAST_TARGET_CLONES
#endif

// One pair of source rows → two luma rows + one row of chroma. `nv12` interleaves U and V into
// `u` (then `v` is unused). Written so the compiler vectorizes it (32-bit lanes, no branches).
DESKCAST_TARGET_CLONES
void convertRowPair(const uint32_t* __restrict s0, const uint32_t* __restrict s1, int width,
                    uint8_t* __restrict y0, uint8_t* __restrict y1, uint8_t* __restrict u,
                    uint8_t* __restrict v, bool nv12) {
  const int pairs = width / 2;
  for (int i = 0; i < width; i++) y0[i] = lumaOf(s0[i]);
  for (int i = 0; i < width; i++) y1[i] = lumaOf(s1[i]);
  if (nv12) {
    for (int i = 0; i < pairs; i++) {
      uint32_t a = s0[2 * i], b = s0[2 * i + 1], c = s1[2 * i], d = s1[2 * i + 1];
      int r = (((a >> 16) & 0xff) + ((b >> 16) & 0xff) + ((c >> 16) & 0xff) + ((d >> 16) & 0xff) + 2) >> 2;
      int g = (((a >> 8) & 0xff) + ((b >> 8) & 0xff) + ((c >> 8) & 0xff) + ((d >> 8) & 0xff) + 2) >> 2;
      int bl = ((a & 0xff) + (b & 0xff) + (c & 0xff) + (d & 0xff) + 2) >> 2;
      u[2 * i] = static_cast<uint8_t>((112 * bl - 74 * g - 38 * r + 0x8080) >> 8);
      u[2 * i + 1] = static_cast<uint8_t>((112 * r - 94 * g - 18 * bl + 0x8080) >> 8);
    }
    return;
  }
  for (int i = 0; i < pairs; i++) {
    uint32_t a = s0[2 * i], b = s0[2 * i + 1], c = s1[2 * i], d = s1[2 * i + 1];
    int r = (((a >> 16) & 0xff) + ((b >> 16) & 0xff) + ((c >> 16) & 0xff) + ((d >> 16) & 0xff) + 2) >> 2;
    int g = (((a >> 8) & 0xff) + ((b >> 8) & 0xff) + ((c >> 8) & 0xff) + ((d >> 8) & 0xff) + 2) >> 2;
    int bl = ((a & 0xff) + (b & 0xff) + (c & 0xff) + (d & 0xff) + 2) >> 2;
    u[i] = static_cast<uint8_t>((112 * bl - 74 * g - 38 * r + 0x8080) >> 8);
    v[i] = static_cast<uint8_t>((112 * r - 94 * g - 18 * bl + 0x8080) >> 8);
  }
}

}  // namespace

void convertBgrxToI420(const uint8_t* src, int srcStride, int width, int height, uint8_t* y,
                       int yStride, uint8_t* u, int uStride, uint8_t* v, int vStride) noexcept {
  width &= ~1;
  height &= ~1;
  for (int row = 0; row < height; row += 2) {
    const auto* s0 = reinterpret_cast<const uint32_t*>(src + static_cast<size_t>(row) * srcStride);
    const auto* s1 = reinterpret_cast<const uint32_t*>(src + static_cast<size_t>(row + 1) * srcStride);
    convertRowPair(s0, s1, width, y + static_cast<size_t>(row) * yStride,
                   y + static_cast<size_t>(row + 1) * yStride,
                   u + static_cast<size_t>(row / 2) * uStride,
                   v + static_cast<size_t>(row / 2) * vStride, false);
  }
}

void convertBgrxToNv12(const uint8_t* src, int srcStride, int width, int height, uint8_t* y,
                       int yStride, uint8_t* uv, int uvStride) noexcept {
  width &= ~1;
  height &= ~1;
  for (int row = 0; row < height; row += 2) {
    const auto* s0 = reinterpret_cast<const uint32_t*>(src + static_cast<size_t>(row) * srcStride);
    const auto* s1 = reinterpret_cast<const uint32_t*>(src + static_cast<size_t>(row + 1) * srcStride);
    convertRowPair(s0, s1, width, y + static_cast<size_t>(row) * yStride,
                   y + static_cast<size_t>(row + 1) * yStride,
                   uv + static_cast<size_t>(row / 2) * uvStride, nullptr, true);
  }
}

void ColorConverter::configure(int srcWidth, int srcHeight, int dstWidth, int dstHeight,
                               AVPixelFormat dstFormat) {
  if (dstFormat != AV_PIX_FMT_YUV420P && dstFormat != AV_PIX_FMT_NV12) {
    throw DeskcastError(errc::kInternal, "color converter: unsupported destination format");
  }
  srcWidth_ = srcWidth;
  srcHeight_ = srcHeight;
  dstWidth_ = dstWidth;
  dstHeight_ = dstHeight;
  dstFormat_ = dstFormat;
  // The destination is always even-sized; a same-size (after even rounding) conversion crops
  // the odd last row/column instead of scaling.
  bool sameSize = (srcWidth & ~1) == dstWidth && (srcHeight & ~1) == dstHeight;
  if (sameSize) {
    sws_.reset();
    return;
  }
  sws_.reset(sws_getContext(srcWidth, srcHeight, AV_PIX_FMT_BGR0, dstWidth, dstHeight, dstFormat,
                            SWS_FAST_BILINEAR, nullptr, nullptr, nullptr));
  if (!sws_) {
    throw DeskcastError(errc::kInternal, "sws_getContext failed for " + std::to_string(srcWidth) +
                                             "x" + std::to_string(srcHeight) + " -> " +
                                             std::to_string(dstWidth) + "x" +
                                             std::to_string(dstHeight));
  }
  // Match the hand-written path: BT.601, limited range output.
  const int* coeffs = sws_getCoefficients(SWS_CS_ITU601);
  sws_setColorspaceDetails(sws_.get(), coeffs, 1 /*src full range*/, coeffs, 0 /*dst limited*/,
                           0, 1 << 16, 1 << 16);
}

void ColorConverter::convert(const uint8_t* bgrx, int srcStride, AVFrame* dst) noexcept {
  if (sws_) {
    const uint8_t* srcSlices[4] = {bgrx, nullptr, nullptr, nullptr};
    int srcStrides[4] = {srcStride, 0, 0, 0};
    sws_scale(sws_.get(), srcSlices, srcStrides, 0, srcHeight_, dst->data, dst->linesize);
    return;
  }
  if (dstFormat_ == AV_PIX_FMT_NV12) {
    convertBgrxToNv12(bgrx, srcStride, dstWidth_, dstHeight_, dst->data[0], dst->linesize[0],
                      dst->data[1], dst->linesize[1]);
  } else {
    convertBgrxToI420(bgrx, srcStride, dstWidth_, dstHeight_, dst->data[0], dst->linesize[0],
                      dst->data[1], dst->linesize[1], dst->data[2], dst->linesize[2]);
  }
}

}  // namespace deskcast
