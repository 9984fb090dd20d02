// Events a media session reports to its owner (the JS binding delivers them to `onEvent`).
// Plain data, independent of N-API, so sessions stay testable and reusable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include <utility>

namespace deskcast {

enum class KeyframeReason { kStart, kPli, kFir, kInterval, kRequest, kReconfigure };

inline const char* keyframeReasonName(KeyframeReason r) noexcept {
  switch (r) {
    case KeyframeReason::kStart: return "start";
    case KeyframeReason::kPli: return "pli";
    case KeyframeReason::kFir: return "fir";
    case KeyframeReason::kInterval: return "interval";
    case KeyframeReason::kRequest: return "request";
    case KeyframeReason::kReconfigure: return "reconfigure";
  }
  return "interval";
}

struct VideoStats {
  uint64_t framesCaptured = 0;
  uint64_t framesEncoded = 0;
  uint64_t framesSent = 0;
  uint64_t keyframesSent = 0;
  uint64_t packetsSent = 0;
  uint64_t bytesSent = 0;
  double captureFps = 0;
  double captureMsAvg = 0;
  double convertMsAvg = 0;
  double encodeMsAvg = 0;
  double captureMsP50 = 0;  // medians over the same ~1 s window (for benches)
  double convertMsP50 = 0;
  double encodeMsP50 = 0;
  int width = 0;
  int height = 0;
  std::string encoder;
  uint64_t pliReceived = 0;
  uint64_t firReceived = 0;
  uint64_t rtcpMalformed = 0;
  // Per frame of the window, in ms (for /metrics histograms): from the first change noticed to
  // the grab (change-driven capture only), grab, convert, encode, and packetize + send.
  std::vector<float> changeToGrabMs, grabMs, convertMs, encodeMs, sendMs;
  // The optional VP8 stream (video/vp8_stream.h)
  bool vp8Active = false;        // libvpx is open (a viewer without H.264 watches)
  uint64_t vp8FramesSent = 0;
  uint64_t vp8KeyframesSent = 0;
  uint64_t vp8BytesSent = 0;
  uint64_t vp8PliReceived = 0;   // PLIs + FIRs for the VP8 SSRC
  double vp8EncodeMsAvg = 0;
};

struct AudioStats {
  uint64_t chunksCaptured = 0;   // 20 ms PCM chunks delivered by the sound server
  uint64_t packetsSent = 0;      // RTP packets (one Opus packet each)
  uint64_t bytesSent = 0;        // RTP datagram bytes, headers included
  double encodeMsAvg = 0;        // Opus encode time, mean over the last ~1 s window
  uint64_t encodeErrors = 0;     // chunks the encoder rejected (not sent)
  uint64_t sendErrors = 0;       // RTP/RTCP datagrams the kernel refused
  uint64_t senderReports = 0;    // RTCP SRs sent
  uint64_t rtcpReceived = 0;     // datagrams read from the socket
  uint64_t rtcpMalformed = 0;    // ... of which not valid RTCP (ignored)
  uint64_t discontinuities = 0;  // RTP timeline re-anchors (first chunk, reconnects)
};

enum class AudioState { kConnecting, kConnected, kDisconnected };

inline const char* audioStateName(AudioState s) noexcept {
  switch (s) {
    case AudioState::kConnecting: return "connecting";
    case AudioState::kConnected: return "connected";
    case AudioState::kDisconnected: return "disconnected";
  }
  return "disconnected";
}

struct SessionEvent {
  enum class Type { kStats, kKeyframe, kError, kLog, kAudioStats, kAudioState } type = Type::kLog;
  VideoStats stats;                                       // kStats
  AudioStats audioStats;                                  // kAudioStats
  KeyframeReason reason = KeyframeReason::kInterval;      // kKeyframe
  AudioState audioState = AudioState::kConnecting;        // kAudioState
  std::string code;                                       // kError
  std::string message;                                    // kError, kLog, kAudioState (reason)
  std::string source;                                     // kAudioState
  bool warn = false;                                      // kLog: 'warn' (else 'info')

  // Stats, logs and keyframe notices may be dropped when the queue is full; errors and state
  // changes never are (they evict the oldest droppable event instead).
  bool droppable() const noexcept { return type != Type::kError && type != Type::kAudioState; }
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called from the pipeline thread. Must not block; may drop droppable events when full.
  virtual void post(SessionEvent&& event) noexcept = 0;

  // A 'log' event ('warn' or 'info') for the JS side.
  void postLog(bool warn, std::string message) noexcept {
    SessionEvent event;
    event.type = SessionEvent::Type::kLog;
    event.warn = warn;
    event.message = std::move(message);
    post(std::move(event));
  }
};

}  // namespace deskcast
