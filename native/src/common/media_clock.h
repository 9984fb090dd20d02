// The ONE process-wide media clock.
//
// Every media timestamp in deskcast derives from CLOCK_MONOTONIC capture times through this
// mapping: RTP timestamps (any clock rate: 90 kHz video, 48 kHz audio) and the NTP wallclock
// that RTCP sender reports pair with them. Because audio and video use the same epoch, a
// receiver that maps both streams through their SRs gets lip sync for free.
#pragma once

#include <cstdint>
#include <ctime>

namespace deskcast {

class MediaClock {
 public:
  static constexpr uint32_t kVideoClockRate = 90000;
  static constexpr uint32_t kAudioClockRate = 48000;

  // The process-wide instance (C++17 guarantees one instance across translation units).
  static const MediaClock& instance() {
    static const MediaClock clock;
    return clock;
  }

  // Monotonic time in nanoseconds: the time base for capture timestamps and scheduling.
  static int64_t nowNs() noexcept { return readNs(CLOCK_MONOTONIC); }

  // RTP timestamp of a monotonic instant for a stream with `clockRate` and a per-stream
  // random `offset` (RFC 3550 §5.1). Wraps modulo 2^32 as RTP requires.
  uint32_t rtpTimestamp(int64_t monoNs, uint32_t clockRate, uint32_t offset) const noexcept {
    int64_t d = monoNs - epochMonoNs_;
    int64_t sec = d / kNsPerSec;
    int64_t rem = d % kNsPerSec;
    if (rem < 0) {
      rem += kNsPerSec;
      sec -= 1;
    }
    uint64_t ticks = static_cast<uint64_t>(sec) * clockRate +
                     static_cast<uint64_t>(rem) * clockRate / static_cast<uint64_t>(kNsPerSec);
    return offset + static_cast<uint32_t>(ticks);
  }

  // 64-bit NTP timestamp (RFC 5905: seconds since 1900 << 32 | fraction) of a monotonic instant.
  uint64_t ntpTimestamp(int64_t monoNs) const noexcept {
    int64_t unixNs = epochRealtimeNs_ + (monoNs - epochMonoNs_);
    uint64_t sec = static_cast<uint64_t>(unixNs / kNsPerSec) + kNtpUnixOffsetSec;
    uint64_t frac = (static_cast<uint64_t>(unixNs % kNsPerSec) << 32) / kNsPerSec;
    return (sec << 32) | frac;
  }

  int64_t epochMonoNs() const noexcept { return epochMonoNs_; }

 private:
  static constexpr int64_t kNsPerSec = 1000000000;
  static constexpr uint64_t kNtpUnixOffsetSec = 2208988800ULL;  // 1900-01-01 → 1970-01-01

  static int64_t readNs(clockid_t id) noexcept {
    timespec ts;
    clock_gettime(id, &ts);
    return static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
  }

  MediaClock() noexcept {
    // Sample realtime between two monotonic reads to pair the two clocks tightly.
    int64_t m0 = readNs(CLOCK_MONOTONIC);
    int64_t r = readNs(CLOCK_REALTIME);
    int64_t m1 = readNs(CLOCK_MONOTONIC);
    epochMonoNs_ = m0 + (m1 - m0) / 2;
    epochRealtimeNs_ = r;
  }

  int64_t epochMonoNs_;
  int64_t epochRealtimeNs_;
};

}  // namespace deskcast
