// RTP timestamps for the audio stream (48 kHz clock, RFC 7587).
//
// Anchored on the process-wide MediaClock (the mapping the video uses), so an audio sample and
// a video frame captured at the same monotonic instant get RTP timestamps that the SRs of both
// streams map to the same NTP time. Between discontinuities the timestamps are contiguous:
// exactly `frames` (960) per chunk, whatever small corrections the capture-time smoothing
// makes, so the receiver's jitter buffer sees a perfectly regular stream. Only a discontinuity
// (first chunk, sound-server reconnect, source change) re-anchors it, and never backwards: a
// re-anchor that would overlap already-sent audio continues the old timeline instead.
//
// Header-only, allocation-free, single-threaded (the capture thread).
#pragma once

#include <cstdint>

#include "common/media_clock.h"

namespace deskcast {

class AudioRtpTimeline {
 public:
  explicit AudioRtpTimeline(uint32_t offset) noexcept : offset_(offset) {}

  // RTP timestamp of a chunk whose first sample was captured at `captureMonoNs`.
  // Sets reanchored() when this chunk started a new anchor.
  uint32_t next(int64_t captureMonoNs, bool discontinuity, uint32_t frames) noexcept {
    uint32_t ts = next_;
    reanchored_ = !started_ || discontinuity;
    if (reanchored_) {
      const uint32_t anchor =
          MediaClock::instance().rtpTimestamp(captureMonoNs, MediaClock::kAudioClockRate, offset_);
      // Signed 32-bit distance (RFC 3550 wrap-around arithmetic): never step back in time.
      ts = (!started_ || static_cast<int32_t>(anchor - next_) >= 0) ? anchor : next_;
    }
    started_ = true;
    next_ = ts + frames;
    return ts;
  }

  bool reanchored() const noexcept { return reanchored_; }
  uint32_t offset() const noexcept { return offset_; }

 private:
  uint32_t offset_;
  uint32_t next_ = 0;
  bool started_ = false;
  bool reanchored_ = false;
};

}  // namespace deskcast
