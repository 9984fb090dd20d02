// H.264 encoding through libavcodec with a hardware-first chain: h264_nvenc → h264_vaapi →
// libx264 (h264_encoder_backends.h), each decided by actually opening it. Every backend is
// configured for real Constrained Baseline, no B-frames, low latency, SPS/PPS in band before
// every IDR. Allocation-free per frame: the input frame and output packet are reused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "video/ffmpeg_util.h"
#include "video/h264_encoder_backends.h"

namespace deskcast {

struct SkippedEncoder {
  std::string encoder;  // libavcodec name, e.g. "h264_nvenc"
  std::string reason;
};

class EncodedPacketSink {
 public:
  virtual ~EncodedPacketSink() = default;
  // Annex B access unit, valid only during the call.
  virtual void onEncodedPacket(const uint8_t* data, size_t size, bool keyframe) = 0;
};

class H264Encoder {
 public:
  // Opens the preferred backend ('auto' = first that opens). Throws DeskcastError
  // (ERR_NO_ENCODER) naming every backend tried and why it failed.
  H264Encoder(EncoderPreference preference, const EncoderSettings& settings);
  ~H264Encoder();
  H264Encoder(const H264Encoder&) = delete;
  H264Encoder& operator=(const H264Encoder&) = delete;

  const std::string& name() const noexcept { return name_; }
  const std::vector<SkippedEncoder>& skipped() const noexcept { return skipped_; }
  const EncoderSettings& settings() const noexcept { return settings_; }
  // What the backend reported when it opened (x264: "profile Constrained Baseline, level 3.1").
  const std::string& openInfo() const noexcept { return openInfo_; }

  // Re-opens the same backend with new settings (size, fps, keyframe interval, bitrate).
  // The next output is an IDR. Throws DeskcastError(ERR_ENCODE_FAILED).
  void reopen(const EncoderSettings& settings);

  // Changes the target bitrate: in place where the backend supports it (libx264, no IDR),
  // otherwise by reopen(). Returns true when it had to reopen.
  bool setBitrate(int kbps);

  // The software frame to fill before encode(): AV_PIX_FMT_YUV420P or AV_PIX_FMT_NV12.
  AVFrame* inputFrame() noexcept;
  AVPixelFormat inputFormat() const noexcept { return swFormat_; }

  // Encodes inputFrame(); forwards every finished access unit to `sink`.
  // Throws DeskcastError(ERR_ENCODE_FAILED).
  void encode(bool forceKeyframe, EncodedPacketSink& sink);

 private:
  void open(const H264EncoderBackend& backend, const EncoderSettings& settings);  // throws
  void close() noexcept;
  void drain(EncodedPacketSink& sink);

  const H264EncoderBackend* backend_ = nullptr;  // an entry of h264EncoderBackends()
  std::string name_;
  std::string openInfo_;
  std::vector<SkippedEncoder> skipped_;
  EncoderSettings settings_;
  AVPixelFormat swFormat_ = AV_PIX_FMT_YUV420P;
  EncoderHardware hardware_;
  AVCodecContextPtr context_;
  AVFramePtr swFrame_;
  AVFramePtr hwFrame_;
  AVPacketPtr packet_;
  int64_t pts_ = 0;
};

}  // namespace deskcast
