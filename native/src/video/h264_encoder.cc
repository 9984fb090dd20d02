#include "video/h264_encoder.h"

#include <cmath>
#include <exception>

#include "common/errors.h"

namespace deskcast {
namespace {

int keyframeIntervalFrames(const EncoderSettings& s) {
  // 0: keyframes on request only (x264's "infinite" keyint; hardware encoders take it as is).
  if (s.keyframeIntervalSec <= 0) return 1 << 30;
  int frames = static_cast<int>(std::lround(s.keyframeIntervalSec * s.fps));
  return frames < 1 ? 1 : frames;
}

}  // namespace

H264Encoder::H264Encoder(EncoderPreference preference, const EncoderSettings& settings) {
  for (const H264EncoderBackend& backend : h264EncoderBackends()) {
    if (preference != EncoderPreference::kAuto && preference != backend.preference) continue;
    try {
      open(backend, settings);
      return;
    } catch (const std::exception& e) {
      close();
      skipped_.push_back({backend.codecName, e.what()});
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
  hardware_.frames.reset();
  hardware_.device.reset();
}

void H264Encoder::open(const H264EncoderBackend& backend, const EncoderSettings& s) {
  FfmpegLogCapture log(/*withInfo=*/true);
  const AVCodec* codec = avcodec_find_encoder_by_name(backend.codecName);
  if (codec == nullptr) throw EncoderOpenFailure("not compiled into this libavcodec");
  if (backend.openHardware != nullptr) backend.openHardware(s, log, &hardware_);

  context_.reset(avcodec_alloc_context3(codec));
  if (!context_) throw EncoderOpenFailure("avcodec_alloc_context3 failed");
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
  backend.configure(c, hardware_);

  int rc = avcodec_open2(c, codec, nullptr);
  if (rc < 0) throw EncoderOpenFailure(withFfmpegLog("avcodec_open2 failed: " + avErrorText(rc), log));

  swFrame_.reset(av_frame_alloc());
  packet_.reset(av_packet_alloc());
  if (!swFrame_ || !packet_) throw EncoderOpenFailure("out of memory");
  swFrame_->format = backend.swFormat;
  swFrame_->width = s.width;
  swFrame_->height = s.height;
  swFrame_->color_range = AVCOL_RANGE_MPEG;
  swFrame_->colorspace = AVCOL_SPC_SMPTE170M;
  rc = av_frame_get_buffer(swFrame_.get(), 64);
  if (rc < 0) throw EncoderOpenFailure("cannot allocate the input frame: " + avErrorText(rc));
  if (hardware_.frames) {
    hwFrame_.reset(av_frame_alloc());
    if (!hwFrame_) throw EncoderOpenFailure("out of memory");
  }

  backend_ = &backend;
  swFormat_ = backend.swFormat;
  name_ = backend.codecName;
  settings_ = s;
  pts_ = 0;
  openInfo_ = log.info();
}

void H264Encoder::reopen(const EncoderSettings& settings) {
  close();
  try {
    open(*backend_, settings);
  } catch (const std::exception& e) {
    close();
    throw DeskcastError(errc::kEncodeFailed,
                        "cannot re-open " + std::string(backend_->codecName) + " at " +
                            std::to_string(settings.width) + "x" +
                            std::to_string(settings.height) + "@" +
                            std::to_string(settings.fps) + ": " + e.what());
  }
}

bool H264Encoder::setBitrate(int kbps) {
  if (backend_->bitrateInPlace && context_) {
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
  if (hardware_.frames) {  // upload into a GPU surface from the pool
    av_frame_unref(hwFrame_.get());
    int rc = av_hwframe_get_buffer(hardware_.frames.get(), hwFrame_.get(), 0);
    if (rc >= 0) rc = av_hwframe_transfer_data(hwFrame_.get(), swFrame_.get(), 0);
    if (rc < 0) {
      throw DeskcastError(errc::kEncodeFailed, name_ + ": GPU surface upload failed: " + avErrorText(rc));
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
