// RTCP (RFC 3550, RFC 4585, RFC 5104): build sender reports, parse incoming feedback.
// Pure functions over byte buffers: no allocation, no I/O. Shared by video and audio sessions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace deskcast {
namespace rtcp {

inline constexpr uint8_t kPtSenderReport = 200;
inline constexpr uint8_t kPtReceiverReport = 201;
inline constexpr uint8_t kPtSdes = 202;
inline constexpr uint8_t kPtBye = 203;
inline constexpr uint8_t kPtRtpFeedback = 205;       // RTPFB
inline constexpr uint8_t kPtPayloadFeedback = 206;   // PSFB
inline constexpr uint8_t kFmtPli = 1;                // PSFB FMT 1: Picture Loss Indication
inline constexpr uint8_t kFmtFir = 4;                // PSFB FMT 4: Full Intra Request
inline constexpr size_t kMaxCnameLength = 255;

struct SenderReport {
  uint32_t ssrc = 0;
  uint64_t ntpTimestamp = 0;   // 32.32 fixed point, seconds since 1900
  uint32_t rtpTimestamp = 0;   // same instant as ntpTimestamp, in the stream's clock
  uint32_t packetCount = 0;    // RTP packets sent
  uint32_t octetCount = 0;     // RTP payload octets sent (headers excluded)
};

// Writes a compound packet SR (no report blocks) + SDES(CNAME) into `out`.
// Returns its size in bytes, or 0 if `capacity` is too small or the CNAME too long.
size_t buildSenderReport(const SenderReport& sr, std::string_view cname, uint8_t* out,
                         size_t capacity) noexcept;

// buildSenderReport() for a stream timed by the process-wide MediaClock, at `nowNs`: the NTP
// time and the stream's RTP time (`clockRate`, `rtpOffset`) of that same instant.
size_t buildSenderReportAt(int64_t nowNs, uint32_t clockRate, uint32_t rtpOffset, uint32_t ssrc,
                           uint32_t packetCount, uint32_t octetCount, std::string_view cname,
                           uint8_t* out, size_t capacity) noexcept;

// What a received compound RTCP packet asks of the media sender `ourSsrc`.
struct FeedbackSummary {
  bool malformed = false;        // the whole datagram was rejected (RFC 3550 §A.2 checks)
  unsigned packets = 0;          // RTCP packets in the compound packet
  unsigned senderReports = 0;
  unsigned receiverReports = 0;
  unsigned pli = 0;              // PLIs addressed to ourSsrc
  unsigned fir = 0;              // FIR entries addressed to ourSsrc
  unsigned nack = 0;             // generic NACKs addressed to ourSsrc (not acted upon)
  unsigned ignoredFeedback = 0;  // feedback for other SSRCs or unknown FMTs
  int lastFirSeq = -1;           // command sequence number of the last FIR entry for us
};

// Parses a (possibly compound, possibly reduced-size per RFC 5506) RTCP datagram. Never reads
// out of bounds; on any malformation returns {malformed = true} with no feedback counted.
FeedbackSummary parseCompound(const uint8_t* data, size_t size, uint32_t ourSsrc) noexcept;

// RFC 5761 §4 demultiplexing: is this datagram RTCP (vs RTP) on a muxed port?
inline bool looksLikeRtcp(const uint8_t* data, size_t size) noexcept {
  return size >= 2 && (data[0] >> 6) == 2 && data[1] >= 192 && data[1] <= 223;
}

}  // namespace rtcp
}  // namespace deskcast
