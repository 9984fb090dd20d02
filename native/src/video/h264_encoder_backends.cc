#include "video/h264_encoder_backends.h"

extern "C" {
#include <libavutil/hwcontext.h>
#include <libavutil/opt.h>
}

#include <unistd.h>

namespace deskcast {
namespace {

constexpr const char* kVaapiRenderNode = "/dev/dri/renderD128";

void setOption(AVCodecContext* ctx, const char* key, const char* value) {
  av_opt_set(ctx->priv_data, key, value, 0);  // unknown options on old builds: ignored
}

void configureNvenc(AVCodecContext* c, const EncoderHardware&) {
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  setOption(c, "preset", "p1");
  setOption(c, "tune", "ull");
  setOption(c, "profile", "baseline");
  setOption(c, "rc", "cbr");
  setOption(c, "zerolatency", "1");
  setOption(c, "delay", "0");
  setOption(c, "no-scenecut", "1");
  setOption(c, "forced-idr", "1");
  setOption(c, "intra-refresh", "0");
}

void openVaapiHardware(const EncoderSettings& s, const FfmpegLogCapture& log, EncoderHardware* hw) {
  if (access(kVaapiRenderNode, R_OK | W_OK) != 0) {
    throw EncoderOpenFailure(std::string("no GPU render node ") + kVaapiRenderNode +
                             " (in a container, pass --device /dev/dri)");
  }
  AVBufferRef* device = nullptr;
  int rc = av_hwdevice_ctx_create(&device, AV_HWDEVICE_TYPE_VAAPI, kVaapiRenderNode, nullptr, 0);
  if (rc < 0) throw EncoderOpenFailure(withFfmpegLog("VAAPI device init failed: " + avErrorText(rc), log));
  hw->device.reset(device);
  AVBufferRef* frames = av_hwframe_ctx_alloc(hw->device.get());
  if (frames == nullptr) throw EncoderOpenFailure("av_hwframe_ctx_alloc failed");
  hw->frames.reset(frames);
  auto* fc = reinterpret_cast<AVHWFramesContext*>(hw->frames->data);
  fc->format = AV_PIX_FMT_VAAPI;
  fc->sw_format = AV_PIX_FMT_NV12;
  fc->width = s.width;
  fc->height = s.height;
  fc->initial_pool_size = 4;
  rc = av_hwframe_ctx_init(hw->frames.get());
  if (rc < 0) {
    throw EncoderOpenFailure(withFfmpegLog("VAAPI surface pool init failed: " + avErrorText(rc), log));
  }
}

void configureVaapi(AVCodecContext* c, const EncoderHardware& hw) {
  c->pix_fmt = AV_PIX_FMT_VAAPI;
  c->profile = FF_PROFILE_H264_CONSTRAINED_BASELINE;
  c->hw_frames_ctx = av_buffer_ref(hw.frames.get());
  setOption(c, "rc_mode", "CBR");
  setOption(c, "async_depth", "1");
  setOption(c, "sei", "0");
  setOption(c, "aud", "0");
}

void configureX264(AVCodecContext* c, const EncoderHardware&) {
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->thread_count = 0;  // auto: zerolatency uses sliced threads (one slice per thread)
  setOption(c, "preset", "ultrafast");
  setOption(c, "tune", "zerolatency");
  setOption(c, "profile", "baseline");
  setOption(c, "forced-idr", "1");
  std::string params = "scenecut=0:intra-refresh=0:bframes=0:repeat-headers=1:aud=0:keyint=" +
                       std::to_string(c->gop_size);
  setOption(c, "x264-params", params.c_str());
}

}  // namespace

std::string withFfmpegLog(const std::string& what, const FfmpegLogCapture& log) {
  return log.errors().empty() ? what : log.errors() + " (" + what + ")";
}

const std::vector<H264EncoderBackend>& h264EncoderBackends() {
  // libavcodec's libx264 wrapper calls x264_encoder_reconfig() when the bitrate fields change;
  // the hardware wrappers only read them when opening.
  static const std::vector<H264EncoderBackend> backends = {
      {"h264_nvenc", EncoderPreference::kNvenc, AV_PIX_FMT_YUV420P, false, nullptr, configureNvenc},
      {"h264_vaapi", EncoderPreference::kVaapi, AV_PIX_FMT_NV12, false, openVaapiHardware, configureVaapi},
      {"libx264", EncoderPreference::kX264, AV_PIX_FMT_YUV420P, true, nullptr, configureX264},
  };
  return backends;
}

}  // namespace deskcast
