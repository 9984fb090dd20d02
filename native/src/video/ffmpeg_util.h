// RAII handles and diagnostics for FFmpeg (libavcodec/libavutil/libswscale).
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/buffer.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <cstdarg>
#include <memory>
#include <string>

namespace deskcast {

struct AVCodecContextDeleter {
  void operator()(AVCodecContext* c) const noexcept { avcodec_free_context(&c); }
};
struct AVFrameDeleter {
  void operator()(AVFrame* f) const noexcept { av_frame_free(&f); }
};
struct AVPacketDeleter {
  void operator()(AVPacket* p) const noexcept { av_packet_free(&p); }
};
struct AVBufferRefDeleter {
  void operator()(AVBufferRef* b) const noexcept { av_buffer_unref(&b); }
};
struct SwsContextDeleter {
  void operator()(SwsContext* s) const noexcept { sws_freeContext(s); }
};

using AVCodecContextPtr = std::unique_ptr<AVCodecContext, AVCodecContextDeleter>;
using AVFramePtr = std::unique_ptr<AVFrame, AVFrameDeleter>;
using AVPacketPtr = std::unique_ptr<AVPacket, AVPacketDeleter>;
using AVBufferRefPtr = std::unique_ptr<AVBufferRef, AVBufferRefDeleter>;
using SwsContextPtr = std::unique_ptr<SwsContext, SwsContextDeleter>;

// "Invalid argument" etc. for an AVERROR code.
std::string avErrorText(int err);

// Routes FFmpeg's log output away from stderr (once per process). Errors logged on the calling
// thread are remembered so failures can explain themselves (e.g. "Cannot load libcuda.so.1").
void installFfmpegLogCapture();

// Collects FFmpeg log lines (errors and warnings; info lines too when `withInfo`) emitted on
// this thread while alive.
class FfmpegLogCapture {
 public:
  explicit FfmpegLogCapture(bool withInfo = false);
  ~FfmpegLogCapture();
  FfmpegLogCapture(const FfmpegLogCapture&) = delete;
  FfmpegLogCapture& operator=(const FfmpegLogCapture&) = delete;

  const std::string& errors() const noexcept { return errors_; }  // errors, '; '-separated
  const std::string& info() const noexcept { return info_; }

 private:
  friend void ffmpegLogCallback(void*, int, const char*, va_list);
  FfmpegLogCapture* previous_;
  bool withInfo_;
  std::string errors_;
  std::string info_;
};

}  // namespace deskcast
