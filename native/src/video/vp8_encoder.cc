#include "video/vp8_encoder.h"

#include <vpx/vp8cx.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "common/errors.h"

namespace deskcast {
namespace {

constexpr int kTimebase = 90000;  // pts in RTP video ticks: the rate controller sees real time

[[noreturn]] void fail(vpx_codec_ctx_t* codec, const std::string& what) {
  std::string detail = codec != nullptr ? vpx_codec_error(codec) : "";
  const char* extra = codec != nullptr ? vpx_codec_error_detail(codec) : nullptr;
  if (extra != nullptr) detail += std::string(" (") + extra + ")";
  throw DeskcastError(errc::kEncodeFailed, "VP8 encoder (libvpx " + std::string(vpx_codec_version_str()) +
                                               "): " + what + (detail.empty() ? "" : ": " + detail));
}

}  // namespace

Vp8Encoder::Vp8Encoder(const Vp8Settings& settings) : settings_(settings) {
  if (settings.width < 2 || settings.height < 2 || settings.fps < 1 || settings.bitrateKbps < 1) {
    throw DeskcastError(errc::kEncodeFailed, "VP8 encoder: invalid size, frame rate or bitrate");
  }
  vpx_codec_iface_t* iface = vpx_codec_vp8_cx();
  if (vpx_codec_enc_config_default(iface, &config_, 0) != VPX_CODEC_OK) fail(nullptr, "no default configuration");
  config_.g_w = static_cast<unsigned>(settings.width);
  config_.g_h = static_cast<unsigned>(settings.height);
  config_.g_timebase = {1, kTimebase};
  config_.g_threads = 1;  // the H.264 encoder has the other core
  config_.g_lag_in_frames = 0;
  config_.g_pass = VPX_RC_ONE_PASS;
  config_.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;  // a lost frame does not poison later ones
  config_.rc_end_usage = VPX_CBR;
  config_.rc_target_bitrate = static_cast<unsigned>(settings.bitrateKbps);
  config_.rc_dropframe_thresh = 0;  // a desktop must not freeze under a burst of change
  config_.rc_min_quantizer = 2;
  config_.rc_max_quantizer = 56;
  config_.rc_undershoot_pct = 100;
  config_.rc_overshoot_pct = 15;
  config_.rc_buf_initial_sz = 500;
  config_.rc_buf_optimal_sz = 600;
  config_.rc_buf_sz = 1000;
  config_.kf_mode = VPX_KF_AUTO;
  config_.kf_min_dist = 0;
  config_.kf_max_dist = static_cast<unsigned>(
      std::max(1L, std::lround(settings.fps * settings.keyframeIntervalSec)));
  if (vpx_codec_enc_init(&codec_, iface, &config_, 0) != VPX_CODEC_OK) fail(&codec_, "cannot open");
  open_ = true;
  // Realtime speed 8: WebRTC's screen-share setting class; static blocks (unchanged desktop)
  // are skipped outright; one token partition (no partition-aware packetizing needed).
  if (vpx_codec_control(&codec_, VP8E_SET_CPUUSED, 8) != VPX_CODEC_OK ||
      vpx_codec_control(&codec_, VP8E_SET_ENABLEAUTOALTREF, 0) != VPX_CODEC_OK ||
      vpx_codec_control(&codec_, VP8E_SET_STATIC_THRESHOLD, 1) != VPX_CODEC_OK ||
      vpx_codec_control(&codec_, VP8E_SET_NOISE_SENSITIVITY, 0) != VPX_CODEC_OK ||
      vpx_codec_control(&codec_, VP8E_SET_TOKEN_PARTITIONS, VP8_ONE_TOKENPARTITION) != VPX_CODEC_OK ||
      vpx_codec_control(&codec_, VP8E_SET_MAX_INTRA_BITRATE_PCT, 300) != VPX_CODEC_OK) {
    std::string why = vpx_codec_error(&codec_);
    vpx_codec_destroy(&codec_);
    open_ = false;
    throw DeskcastError(errc::kEncodeFailed, "VP8 encoder: a realtime control was refused: " + why);
  }
  // The image only describes planes; encode() points it at the caller's picture.
  vpx_img_wrap(&image_, VPX_IMG_FMT_I420, config_.g_w, config_.g_h, 1,
               reinterpret_cast<unsigned char*>(this));
  const size_t chromaW = (config_.g_w + 1) / 2, chromaH = (config_.g_h + 1) / 2;
  chroma_.resize(2 * chromaW * chromaH);
}

Vp8Encoder::~Vp8Encoder() {
  if (open_) vpx_codec_destroy(&codec_);
}

void Vp8Encoder::setBitrate(int kbps) {
  if (kbps < 1 || static_cast<unsigned>(kbps) == config_.rc_target_bitrate) return;
  config_.rc_target_bitrate = static_cast<unsigned>(kbps);
  if (vpx_codec_enc_config_set(&codec_, &config_) != VPX_CODEC_OK) fail(&codec_, "cannot change the bitrate");
  settings_.bitrateKbps = kbps;
}

void Vp8Encoder::encode(const YuvPicture& picture, int64_t ptsNs, bool forceKeyframe, Vp8FrameSink& sink) {
  image_.planes[VPX_PLANE_Y] = const_cast<uint8_t*>(picture.y);
  image_.stride[VPX_PLANE_Y] = picture.yStride;
  const int chromaW = (settings_.width + 1) / 2, chromaH = (settings_.height + 1) / 2;
  if (picture.nv12) {
    // VAAPI's input is NV12: split its UV plane once here rather than convert twice per frame.
    uint8_t* u = chroma_.data();
    uint8_t* v = u + static_cast<size_t>(chromaW) * chromaH;
    for (int row = 0; row < chromaH; row++) {
      const uint8_t* uv = picture.u + static_cast<ptrdiff_t>(row) * picture.uStride;
      uint8_t* ur = u + static_cast<size_t>(row) * chromaW;
      uint8_t* vr = v + static_cast<size_t>(row) * chromaW;
      for (int x = 0; x < chromaW; x++) {
        ur[x] = uv[2 * x];
        vr[x] = uv[2 * x + 1];
      }
    }
    image_.planes[VPX_PLANE_U] = u;
    image_.planes[VPX_PLANE_V] = v;
    image_.stride[VPX_PLANE_U] = image_.stride[VPX_PLANE_V] = chromaW;
  } else {
    image_.planes[VPX_PLANE_U] = const_cast<uint8_t*>(picture.u);
    image_.planes[VPX_PLANE_V] = const_cast<uint8_t*>(picture.v);
    image_.stride[VPX_PLANE_U] = picture.uStride;
    image_.stride[VPX_PLANE_V] = picture.vStride;
  }
  const vpx_codec_pts_t pts = ptsNs * (kTimebase / 10000) / 100000;  // ns → 1/90000 s
  const unsigned long duration = static_cast<unsigned long>(std::max(1, kTimebase / settings_.fps));
  const vpx_enc_frame_flags_t flags = forceKeyframe ? VPX_EFLAG_FORCE_KF : 0;
  if (vpx_codec_encode(&codec_, &image_, pts, duration, flags, VPX_DL_REALTIME) != VPX_CODEC_OK) {
    fail(&codec_, "encode failed");
  }
  vpx_codec_iter_t iter = nullptr;
  while (const vpx_codec_cx_pkt_t* pkt = vpx_codec_get_cx_data(&codec_, &iter)) {
    if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
    sink.onVp8Frame(static_cast<const uint8_t*>(pkt->data.frame.buf), pkt->data.frame.sz,
                    (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0,
                    (pkt->data.frame.flags & VPX_FRAME_IS_DROPPABLE) != 0);
  }
}

}  // namespace deskcast
