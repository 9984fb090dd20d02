#include "video/color_convert.h"

#include <libyuv/convert_from_argb.h>
#include <string.h>

#include <algorithm>

#include "common/errors.h"

namespace deskcast {
namespace {

// Premultiplied ARGB "over" into BGRX: dst = src + dst * (255 - a) / 255, per channel.
inline uint32_t blendOver(uint32_t s, uint32_t d) noexcept {
  uint32_t a = s >> 24;
  if (a == 255) return s & 0x00ffffff;
  uint32_t inv = 255 - a;
  uint32_t out = 0;
  for (int shift = 0; shift <= 16; shift += 8) {
    uint32_t t = ((d >> shift) & 0xff) * inv + 128;
    uint32_t c = ((s >> shift) & 0xff) + ((t + (t >> 8)) >> 8);
    out |= (c > 255 ? 255 : c) << shift;
  }
  return out;
}

PixelRect intersect(const PixelRect& a, const PixelRect& b) noexcept {
  int x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  int x1 = std::min(a.x + a.width, b.x + b.width), y1 = std::min(a.y + a.height, b.y + b.height);
  if (x1 <= x0 || y1 <= y0) return PixelRect{};
  return PixelRect{x0, y0, x1 - x0, y1 - y0};
}

}  // namespace

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
  needFull_ = true;
  lastCursor_ = PixelRect{};
  if (scratch_.size() < 128 * 128 * 4) scratch_.resize(128 * 128 * 4);  // most cursors fit
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
  // Match libyuv: BT.601, limited range output.
  const int* coeffs = sws_getCoefficients(SWS_CS_ITU601);
  sws_setColorspaceDetails(sws_.get(), coeffs, 1 /*src full range*/, coeffs, 0 /*dst limited*/,
                           0, 1 << 16, 1 << 16);
}

// 4:2:0 chroma covers 2x2 blocks: widen to even bounds inside the (even) picture.
PixelRect ColorConverter::evenRect(const PixelRect& r) const noexcept {
  int x0 = std::max(0, r.x & ~1), y0 = std::max(0, r.y & ~1);
  int x1 = std::min(dstWidth_, (r.x + r.width + 1) & ~1);
  int y1 = std::min(dstHeight_, (r.y + r.height + 1) & ~1);
  if (x1 <= x0 || y1 <= y0) return PixelRect{};
  return PixelRect{x0, y0, x1 - x0, y1 - y0};
}

// `bgrx` points at the rectangle's top-left pixel; `r` is even-aligned.
void ColorConverter::convertRect(const uint8_t* bgrx, int srcStride, PixelRect r,
                                 AVFrame* dst) noexcept {
  uint8_t* y = dst->data[0] + static_cast<size_t>(r.y) * dst->linesize[0] + r.x;
  if (dstFormat_ == AV_PIX_FMT_NV12) {
    uint8_t* uv = dst->data[1] + static_cast<size_t>(r.y / 2) * dst->linesize[1] + r.x;
    libyuv::ARGBToNV12(bgrx, srcStride, y, dst->linesize[0], uv, dst->linesize[1], r.width,
                       r.height);
  } else {
    uint8_t* u = dst->data[1] + static_cast<size_t>(r.y / 2) * dst->linesize[1] + r.x / 2;
    uint8_t* v = dst->data[2] + static_cast<size_t>(r.y / 2) * dst->linesize[2] + r.x / 2;
    libyuv::ARGBToI420(bgrx, srcStride, y, dst->linesize[0], u, dst->linesize[1], v,
                       dst->linesize[2], r.width, r.height);
  }
  lastPixels_ += static_cast<int64_t>(r.width) * r.height;
}

void ColorConverter::convertAll(const uint8_t* bgrx, int srcStride, AVFrame* dst) noexcept {
  if (sws_) {
    const uint8_t* srcSlices[4] = {bgrx, nullptr, nullptr, nullptr};
    int srcStrides[4] = {srcStride, 0, 0, 0};
    sws_scale(sws_.get(), srcSlices, srcStrides, 0, srcHeight_, dst->data, dst->linesize);
    lastPixels_ += static_cast<int64_t>(srcWidth_) * srcHeight_;
    return;
  }
  convertRect(bgrx, srcStride, PixelRect{0, 0, dstWidth_, dstHeight_}, dst);
}

// Copies the clean pixels under the cursor (even-aligned area) into scratch_ and blends the
// cursor over them. Returns the area (empty: no cursor to draw).
PixelRect ColorConverter::blendCursorIntoScratch(const BgrxFrame& frame) noexcept {
  const CursorImage& c = frame.cursor;
  if (!c.visible || c.pixels == nullptr) return PixelRect{};
  const PixelRect area = evenRect(intersect(PixelRect{c.x, c.y, c.width, c.height},
                                            PixelRect{0, 0, srcWidth_ & ~1, srcHeight_ & ~1}));
  if (area.empty()) return area;
  const size_t rowBytes = static_cast<size_t>(area.width) * 4;
  if (scratch_.size() < rowBytes * area.height) return PixelRect{};  // no allocation here
  for (int row = 0; row < area.height; row++) {
    memcpy(scratch_.data() + row * rowBytes,
           frame.pixels + static_cast<size_t>(area.y + row) * frame.stride + area.x * 4, rowBytes);
  }
  for (int cy = 0; cy < c.height; cy++) {
    int sy = c.y + cy - area.y;
    if (sy < 0 || sy >= area.height) continue;
    auto* row = reinterpret_cast<uint32_t*>(scratch_.data() + sy * rowBytes);
    const uint32_t* src = c.pixels + static_cast<size_t>(cy) * c.width;
    for (int cx = 0; cx < c.width; cx++) {
      int sx = c.x + cx - area.x;
      if (sx < 0 || sx >= area.width || (src[cx] >> 24) == 0) continue;
      row[sx] = blendOver(src[cx], row[sx]);
    }
  }
  return area;
}

bool ColorConverter::update(const BgrxFrame& frame, AVFrame* dst) noexcept {
  lastPixels_ = 0;
  const bool full = frame.full || needFull_;
  if (!full && frame.dirtyCount == 0 && !frame.cursorChanged) return false;
  needFull_ = false;

  if (sws_) {
    // Scaling mixes neighbouring pixels: draw the cursor into the source for the pass, then
    // put the clean pixels back (the picture is the source's, it must stay cursor-free).
    PixelRect area = blendCursorIntoScratch(frame);
    auto* pixels = const_cast<uint8_t*>(frame.pixels);
    const size_t rowBytes = static_cast<size_t>(area.width) * 4;
    for (int pass = 0; pass < 2 && !area.empty(); pass++) {
      for (int row = 0; row < area.height; row++) {
        uint8_t* p = pixels + static_cast<size_t>(area.y + row) * frame.stride + area.x * 4;
        uint8_t* s = scratch_.data() + row * rowBytes;
        std::swap_ranges(p, p + rowBytes, s);  // pass 0: cursor in; pass 1: clean back
      }
      if (pass == 0) convertAll(frame.pixels, frame.stride, dst);
    }
    if (area.empty()) convertAll(frame.pixels, frame.stride, dst);
    return true;
  }

  auto at = [&](const PixelRect& r) {
    return frame.pixels + static_cast<size_t>(r.y) * frame.stride + static_cast<size_t>(r.x) * 4;
  };
  if (full) {
    convertAll(frame.pixels, frame.stride, dst);
  } else {
    for (int i = 0; i < frame.dirtyCount; i++) {
      PixelRect r = evenRect(frame.dirty[i]);
      if (!r.empty()) convertRect(at(r), frame.stride, r, dst);
    }
    if (frame.cursorChanged && !lastCursor_.empty()) {
      convertRect(at(lastCursor_), frame.stride, lastCursor_, dst);  // restore its old area
    }
  }
  lastCursor_ = blendCursorIntoScratch(frame);
  if (!lastCursor_.empty()) {
    convertRect(scratch_.data(), lastCursor_.width * 4, lastCursor_, dst);
  }
  return true;
}

}  // namespace deskcast
