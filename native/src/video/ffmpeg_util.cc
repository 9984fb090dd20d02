#include "video/ffmpeg_util.h"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

#include <cstdio>
#include <cstring>
#include <mutex>

namespace deskcast {
namespace {
thread_local FfmpegLogCapture* t_capture = nullptr;

void appendLine(std::string& to, const char* line) {
  size_t len = strlen(line);
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ' ')) len--;
  if (len == 0) return;
  if (to.size() > 2000) return;  // bounded
  if (!to.empty()) to += "; ";
  to.append(line, len);
}
}  // namespace

void ffmpegLogCallback(void* avcl, int level, const char* fmt, va_list args) {
  FfmpegLogCapture* capture = t_capture;
  if (capture == nullptr) return;  // FFmpeg chatter outside our calls: dropped, never stderr
  if (level > AV_LOG_INFO) return;
  if (level > AV_LOG_WARNING && !capture->withInfo_) return;
  char line[512];
  int prefix = 0;  // no "[libx264 @ 0x...]": the caller knows the component
  av_log_format_line2(avcl, level, fmt, args, line, sizeof line, &prefix);
  appendLine(level <= AV_LOG_ERROR ? capture->errors_ : capture->info_, line);
}

std::string avErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

void installFfmpegLogCapture() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(ffmpegLogCallback); });
}

FfmpegLogCapture::FfmpegLogCapture(bool withInfo) : previous_(t_capture), withInfo_(withInfo) {
  installFfmpegLogCapture();
  t_capture = this;
}

FfmpegLogCapture::~FfmpegLogCapture() { t_capture = previous_; }

}  // namespace deskcast
