// Events a media session reports to its owner (the JS binding delivers them to `onEvent`).
// Plain data, independent of N-API, so sessions stay testable and reusable.
#pragma once

#include <cstdint>
#include <string>

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
  double captureMsP50 = 0;  // medians over the same ~1 s window (additions to the spec'd API)
  double convertMsP50 = 0;
  double encodeMsP50 = 0;
  int width = 0;
  int height = 0;
  std::string encoder;
  uint64_t pliReceived = 0;
  uint64_t firReceived = 0;
  uint64_t rtcpMalformed = 0;
};

struct SessionEvent {
  enum class Type { kStats, kKeyframe, kError, kLog } type = Type::kLog;
  VideoStats stats;                                       // kStats
  KeyframeReason reason = KeyframeReason::kInterval;      // kKeyframe
  std::string code;                                       // kError
  std::string message;                                    // kError, kLog
  bool warn = false;                                      // kLog: 'warn' (else 'info')

  bool droppable() const noexcept { return type != Type::kError; }
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called from the pipeline thread. Must not block; may drop droppable events when full.
  virtual void post(SessionEvent&& event) noexcept = 0;
};

}  // namespace deskcast
