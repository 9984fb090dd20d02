// VP8 encoding with libvpx for viewers whose browser has no usable H.264 (Firefox without
// Cisco's OpenH264 plugin). Realtime settings: one pass, CBR, no lag, error resilient, no
// alt-ref; static blocks skipped (screen content). It encodes the SAME I420 picture the H.264
// encoder got: it never captures. Allocation-free per frame (the picture is wrapped, not copied;
// only an NV12 input is de-interleaved into buffers sized at open()).
#pragma once

#include <vpx/vpx_encoder.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace deskcast {

struct Vp8Settings {
  int width = 0;
  int height = 0;
  int fps = 30;
  int bitrateKbps = 3000;
  double keyframeIntervalSec = 2.0;
};

// Where encoded frames go; `data` is valid only during the call.
class Vp8FrameSink {
 public:
  virtual ~Vp8FrameSink() = default;
  virtual void onVp8Frame(const uint8_t* data, size_t size, bool keyframe, bool droppable) = 0;
};

// A YUV 4:2:0 picture by planes: I420 (u and v) or NV12 (uv interleaved in `u`, `v` null).
struct YuvPicture {
  const uint8_t* y = nullptr;
  const uint8_t* u = nullptr;
  const uint8_t* v = nullptr;
  int yStride = 0;
  int uStride = 0;
  int vStride = 0;
  bool nv12 = false;
};

class Vp8Encoder {
 public:
  // Opens libvpx's VP8 encoder. Throws DeskcastError(ERR_ENCODE_FAILED) with libvpx's reason.
  explicit Vp8Encoder(const Vp8Settings& settings);
  ~Vp8Encoder();
  Vp8Encoder(const Vp8Encoder&) = delete;
  Vp8Encoder& operator=(const Vp8Encoder&) = delete;

  const Vp8Settings& settings() const noexcept { return settings_; }
  // In place (libvpx applies a new target at the next frame). Throws ERR_ENCODE_FAILED.
  void setBitrate(int kbps);
  // Encodes one picture of settings() size; `ptsNs` is its capture time on the media clock.
  // Throws DeskcastError(ERR_ENCODE_FAILED).
  void encode(const YuvPicture& picture, int64_t ptsNs, bool forceKeyframe, Vp8FrameSink& sink);

 private:
  Vp8Settings settings_;
  vpx_codec_enc_cfg_t config_{};
  vpx_codec_ctx_t codec_{};
  bool open_ = false;
  vpx_image_t image_{};
  std::vector<uint8_t> chroma_;  // NV12 input only: de-interleaved U then V
};

}  // namespace deskcast
