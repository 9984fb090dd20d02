// The H.264 encoder backends, one table entry each, in the order the hardware-first chain tries
// them (h264_nvenc → h264_vaapi → libx264). An entry says what differs between backends: the
// libavcodec encoder name, the pixel format ColorConverter must write, the hardware device and
// surface pool it needs, and the options that make it emit real Constrained Baseline with no
// B-frames, no scene-cut IDRs and no lookahead, SPS/PPS in band before every IDR. H264Encoder
// sets what all backends share (size, rate, GOP, bitrate, colour) and walks the table.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "video/ffmpeg_util.h"

namespace deskcast {

enum class EncoderPreference { kAuto, kX264, kNvenc, kVaapi };

struct EncoderSettings {
  int width = 0;   // even
  int height = 0;  // even
  int fps = 30;
  int bitrateKbps = 3000;
  double keyframeIntervalSec = 2.0;
};

// A backend's reason for not opening (FFmpeg's own log lines are appended where useful).
struct EncoderOpenFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The hardware handles a backend opens before its codec: a device, and the pool of GPU
// surfaces frames are uploaded into. Both stay null for a software encoder.
struct EncoderHardware {
  AVBufferRefPtr device;
  AVBufferRefPtr frames;
};

struct H264EncoderBackend {
  const char* codecName;          // libavcodec encoder, e.g. "h264_nvenc"
  EncoderPreference preference;   // the `encoder` option that forces this backend
  AVPixelFormat swFormat;         // what the converter writes: YUV420P or NV12
  bool bitrateInPlace;            // the wrapper reconfigures bitrate without re-opening
  // Opens the device and surface pool (null: software input). Throws EncoderOpenFailure.
  void (*openHardware)(const EncoderSettings& settings, const FfmpegLogCapture& log,
                       EncoderHardware* hardware);
  // Sets pix_fmt, profile and the backend's private options on an allocated context.
  void (*configure)(AVCodecContext* context, const EncoderHardware& hardware);
};

// nvenc, vaapi, x264: the order `encoder: 'auto'` tries them in.
const std::vector<H264EncoderBackend>& h264EncoderBackends();

// `what`, preceded by the FFmpeg errors logged meanwhile ("Cannot load libcuda.so.1 (...)").
std::string withFfmpegLog(const std::string& what, const FfmpegLogCapture& log);

}  // namespace deskcast
