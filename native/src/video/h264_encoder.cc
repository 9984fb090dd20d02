#include "video/h264_encoder.h"

extern "C" {
#include <libavutil/hwcontext.h>
#include <libavutil/opt.h>
}

#include <unistd.h>

#include <cmath>
#include <stdexcept>

#include "common/errors.h"

namespace deskcast {
namespace {

constexpr const char* kVaapiRenderNode = "/dev/dri/renderD128";

// Our own failure reasons while opening a backend (FFmpeg's log lines are appended).
struct OpenFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void setOption(AVCodecContext* ctx, const char* key, const char* value) {
  av_opt_set(ctx->priv_data, key, value, 0);  // unknown options on old builds: ignored
}

int keyframeIntervalFrames(const EncoderSettings& s) {
  int frames = static_cast<int>(std::lround(s.keyframeIntervalSec * s.fps));
  return frames < 1 ? 1 : frames;
}

std::string withLog(const std::string& what, const FfmpegLogCapture& log) {
  return log.errors().empty() ? what : log.errors() + " (" + what + ")";
}

}  // namespace

const char* H264Encoder::codecName(Backend backend) noexcept {
  switch (backend) {
    case Backend::kNvenc: return "h264_nvenc";
    case Backend::kVaapi: return "h264_vaapi";
    case Backend::kX264: return "libx264";
  }
  return "?";
}

H264Encoder::H264Encoder(EncoderPreference preference, const EncoderSettings& settings) {
  std::vector<Backend> chain;
  switch (preference) {
    case EncoderPreference::kAuto: chain = {Backend::kNvenc, Backend::kVaapi, Backend::kX264}; break;
    case EncoderPreference::kNvenc: chain = {Backend::kNvenc}; break;
    case EncoderPreference::kVaapi: chain = {Backend::kVaapi}; break;
    case EncoderPreference::kX264: chain = {Backend::kX264}; break;
  }
  for (Backend backend : chain) {
    try {
      open(backend, settings);
      return;
    } catch (const std::exception& e) {
      close();
      skipped_.push_back({codecName(backend), e.what()});
    }
  }
  std::string message;
  if (preference == EncoderPreference::kAuto) {
    message = "no H.264 encoder could be opened:";
    for (const auto& s : skipped_) message += " " + s.encoder + ": " + s.reason + ";";
    message += " install FFmpeg's libavcodec with libx264 (Debian: libavcodec59 libx264-164)";
  } else {
    const SkippedEncoder& s = skipped_.front();
    message = "cannot open encoder " + s.encoder + ": " + s.reason +
              ". Use encoder: 'auto' to fall back to another encoder";
  }
  throw DeskcastError(errc::kNoEncoder, message);
}

H264Encoder::~H264Encoder() { close(); }

void H264Encoder::close() noexcept {
  context_.reset();
  hwFrame_.reset();
  swFrame_.reset();
  packet_.reset();
  hwFrames_.reset();
  hwDevice_.reset();
}

void H264Encoder::open(Backend backend, const EncoderSettings& s) {
  FfmpegLogCapture log(/*withInfo=*/true);
  const char* name = codecName(backend);
  const AVCodec* codec = avcodec_find_encoder_by_name(name);
  if (codec == nullptr) throw OpenFailure("not compiled into this libavcodec");

  if (backend == Backend::kVaapi) {
    if (access(kVaapiRenderNode, R_OK | W_OK) != 0) {
      throw OpenFailure(std::string("no GPU render node ") + kVaapiRenderNode +
                        " (in a container, pass --device /dev/dri)");
    }
    AVBufferRef* device = nullptr;
    int rc = av_hwdevice_ctx_create(&device, AV_HWDEVICE_TYPE_VAAPI, kVaapiRenderNode, nullptr, 0);
    if (rc < 0) throw OpenFailure(withLog("VAAPI device init failed: " + avErrorText(rc), log));
    hwDevice_.reset(device);
    AVBufferRef* frames = av_hwframe_ctx_alloc(hwDevice_.get());
    if (frames == nullptr) throw OpenFailure("av_hwframe_ctx_alloc failed");
    hwFrames_.reset(frames);
    auto* fc = reinterpret_cast<AVHWFramesContext*>(hwFrames_->data);
    fc->format = AV_PIX_FMT_VAAPI;
    fc->sw_format = AV_PIX_FMT_NV12;
    fc->width = s.width;
    fc->height = s.height;
    fc->initial_pool_size = 4;
    rc = av_hwframe_ctx_init(hwFrames_.get());
    if (rc < 0) throw OpenFailure(withLog("VAAPI surface pool init failed: " + avErrorText(rc), log));
  }

  context_.reset(avcodec_alloc_context3(codec));
  if (!context_) throw OpenFailure("avcodec_alloc_context3 failed");
  AVCodecContext* c = context_.get();
  c->width = s.width;
  c->height = s.height;
  c->time_base = AVRational{1, s.fps};
  c->framerate = AVRational{s.fps, 1};
  c->gop_size = keyframeIntervalFrames(s);
  c->max_b_frames = 0;
  c->bit_rate = static_cast<int64_t>(s.bitrateKbps) * 1000;
  c->rc_max_rate = c->bit_rate;
  c->rc_buffer_size = static_cast<int>(c->bit_rate / 2);  // 500 ms VBV: low delay, sane IDRs
  c->color_range = AVCOL_RANGE_MPEG;                       // matches color_convert (BT.601)
  c->colorspace = AVCOL_SPC_SMPTE170M;
  c->flags &= ~AV_CODEC_FLAG_GLOBAL_HEADER;  // SPS/PPS in band, repeated before every IDR

  switch (backend) {
    case Backend::kX264: {
      swFormat_ = AV_PIX_FMT_YUV420P;
      c->pix_fmt = AV_PIX_FMT_YUV420P;
      c->thread_count = 0;  // auto: zerolatency uses sliced threads (one slice per thread)
      setOption(c, "preset", "ultrafast");
      setOption(c, "tune", "zerolatency");
      setOption(c, "profile", "baseline");
      setOption(c, "forced-idr", "1");
      std::string params = "scenecut=0:intra-refresh=0:bframes=0:repeat-headers=1:aud=0:keyint=" +
                           std::to_string(c->gop_size);
      setOption(c, "x264-params", params.c_str());
      break;
    }
    case Backend::kNvenc:
      swFormat_ = AV_PIX_FMT_YUV420P;
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
      break;
    case Backend::kVaapi:
      swFormat_ = AV_PIX_FMT_NV12;
      c->pix_fmt = AV_PIX_FMT_VAAPI;
      c->profile = FF_PROFILE_H264_CONSTRAINED_BASELINE;
      c->hw_frames_ctx = av_buffer_ref(hwFrames_.get());
      setOption(c, "rc_mode", "CBR");
      setOption(c, "async_depth", "1");
      setOption(c, "sei", "0");
      setOption(c, "aud", "0");
      break;
  }

  int rc = avcodec_open2(c, codec, nullptr);
  if (rc < 0) throw OpenFailure(withLog("avcodec_open2 failed: " + avErrorText(rc), log));

  swFrame_.reset(av_frame_alloc());
  packet_.reset(av_packet_alloc());
  if (!swFrame_ || !packet_) throw OpenFailure("out of memory");
  swFrame_->format = swFormat_;
  swFrame_->width = s.width;
  swFrame_->height = s.height;
  swFrame_->color_range = AVCOL_RANGE_MPEG;
  swFrame_->colorspace = AVCOL_SPC_SMPTE170M;
  rc = av_frame_get_buffer(swFrame_.get(), 64);
  if (rc < 0) throw OpenFailure("cannot allocate the input frame: " + avErrorText(rc));
  if (backend == Backend::kVaapi) {
    hwFrame_.reset(av_frame_alloc());
    if (!hwFrame_) throw OpenFailure("out of memory");
  }

  backend_ = backend;
  name_ = name;
  settings_ = s;
  pts_ = 0;
  openInfo_ = log.info();
}

void H264Encoder::reopen(const EncoderSettings& settings) {
  close();
  try {
    open(backend_, settings);
  } catch (const std::exception& e) {
    close();
    throw DeskcastError(errc::kEncodeFailed,
                        "cannot re-open " + std::string(codecName(backend_)) + " at " +
                            std::to_string(settings.width) + "x" +
                            std::to_string(settings.height) + "@" +
                            std::to_string(settings.fps) + ": " + e.what());
  }
}

bool H264Encoder::setBitrate(int kbps) {
  if (backend_ == Backend::kX264 && context_) {
    // libavcodec's libx264 wrapper calls x264_encoder_reconfig() when these change.
    AVCodecContext* c = context_.get();
    c->bit_rate = static_cast<int64_t>(kbps) * 1000;
    c->rc_max_rate = c->bit_rate;
    c->rc_buffer_size = static_cast<int>(c->bit_rate / 2);
    settings_.bitrateKbps = kbps;
    return false;
  }
  EncoderSettings s = settings_;
  s.bitrateKbps = kbps;
  reopen(s);
  return true;
}

AVFrame* H264Encoder::inputFrame() noexcept {
  // A no-op unless the encoder still references the buffer (then it copies once).
  av_frame_make_writable(swFrame_.get());
  return swFrame_.get();
}

void H264Encoder::encode(bool forceKeyframe, EncodedPacketSink& sink) {
  if (!context_) throw DeskcastError(errc::kEncodeFailed, "encoder is not open");
  AVFrame* frame = swFrame_.get();
  if (backend_ == Backend::kVaapi) {
    av_frame_unref(hwFrame_.get());
    int rc = av_hwframe_get_buffer(hwFrames_.get(), hwFrame_.get(), 0);
    if (rc >= 0) rc = av_hwframe_transfer_data(hwFrame_.get(), swFrame_.get(), 0);
    if (rc < 0) {
      throw DeskcastError(errc::kEncodeFailed, "VAAPI upload failed: " + avErrorText(rc));
    }
    frame = hwFrame_.get();
  }
  frame->pts = pts_++;
  frame->pict_type = forceKeyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;

  int rc = avcodec_send_frame(context_.get(), frame);
  if (rc == AVERROR(EAGAIN)) {  // output queue full: collect it, then retry once
    drain(sink);
    rc = avcodec_send_frame(context_.get(), frame);
  }
  if (rc < 0) {
    throw DeskcastError(errc::kEncodeFailed,
                        std::string(name_) + " rejected a frame: " + avErrorText(rc));
  }
  drain(sink);
}

void H264Encoder::drain(EncodedPacketSink& sink) {
  for (;;) {
    int rc = avcodec_receive_packet(context_.get(), packet_.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
    if (rc < 0) {
      throw DeskcastError(errc::kEncodeFailed, name_ + " failed to encode: " + avErrorText(rc));
    }
    try {
      sink.onEncodedPacket(packet_->data, static_cast<size_t>(packet_->size),
                           (packet_->flags & AV_PKT_FLAG_KEY) != 0);
    } catch (...) {
      av_packet_unref(packet_.get());
      throw;
    }
    av_packet_unref(packet_.get());
  }
}

}  // namespace deskcast
