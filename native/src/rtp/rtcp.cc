#include "rtp/rtcp.h"

#include "common/media_clock.h"

#include <cstring>

namespace deskcast {
namespace rtcp {
namespace {

inline void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline uint32_t get32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

}  // namespace

size_t buildSenderReport(const SenderReport& sr, std::string_view cname, uint8_t* out,
                         size_t capacity) noexcept {
  if (cname.empty() || cname.size() > kMaxCnameLength) return 0;
  constexpr size_t kSrSize = 28;  // header 4 + SSRC 4 + sender info 20
  // SDES: header 4 + SSRC 4 + item (type, len, text) + end byte(s), padded to 32 bits.
  size_t chunk = 4 + 2 + cname.size() + 1;
  chunk = (chunk + 3) & ~size_t(3);
  size_t sdesSize = 4 + chunk;
  size_t total = kSrSize + sdesSize;
  if (capacity < total) return 0;

  uint8_t* p = out;
  p[0] = 0x80;  // V=2, P=0, RC=0
  p[1] = kPtSenderReport;
  put16(p + 2, kSrSize / 4 - 1);
  put32(p + 4, sr.ssrc);
  put32(p + 8, static_cast<uint32_t>(sr.ntpTimestamp >> 32));
  put32(p + 12, static_cast<uint32_t>(sr.ntpTimestamp));
  put32(p + 16, sr.rtpTimestamp);
  put32(p + 20, sr.packetCount);
  put32(p + 24, sr.octetCount);

  p = out + kSrSize;
  p[0] = 0x81;  // V=2, P=0, SC=1
  p[1] = kPtSdes;
  put16(p + 2, static_cast<uint16_t>(sdesSize / 4 - 1));
  put32(p + 4, sr.ssrc);
  p[8] = 1;  // CNAME
  p[9] = static_cast<uint8_t>(cname.size());
  memcpy(p + 10, cname.data(), cname.size());
  // Null item terminating the list plus padding to the next 32-bit boundary (all zeros).
  memset(p + 10 + cname.size(), 0, sdesSize - 10 - cname.size());
  return total;
}

size_t buildSenderReportAt(int64_t nowNs, uint32_t clockRate, uint32_t rtpOffset, uint32_t ssrc,
                           uint32_t packetCount, uint32_t octetCount, std::string_view cname,
                           uint8_t* out, size_t capacity) noexcept {
  const MediaClock& clock = MediaClock::instance();
  SenderReport sr;
  sr.ssrc = ssrc;
  sr.ntpTimestamp = clock.ntpTimestamp(nowNs);
  sr.rtpTimestamp = clock.rtpTimestamp(nowNs, clockRate, rtpOffset);
  sr.packetCount = packetCount;
  sr.octetCount = octetCount;
  return buildSenderReport(sr, cname, out, capacity);
}

FeedbackSummary parseCompound(const uint8_t* data, size_t size, uint32_t ourSsrc) noexcept {
  FeedbackSummary result;
  FeedbackSummary rejected;
  rejected.malformed = true;
  if (data == nullptr || size < 4 || (size % 4) != 0) return rejected;

  size_t offset = 0;
  while (offset < size) {
    if (size - offset < 4) return rejected;
    const uint8_t* p = data + offset;
    uint8_t version = p[0] >> 6;
    bool padding = (p[0] & 0x20) != 0;
    uint8_t count = p[0] & 0x1f;  // RC / SC / FMT
    uint8_t pt = p[1];
    size_t length = (size_t(p[2]) << 8 | p[3]) * 4 + 4;
    if (version != 2 || pt < 192 || pt > 223 || length > size - offset) return rejected;

    size_t bodyEnd = length;  // exclusive, relative to p
    if (padding) {
      // Only the last packet of a compound packet may be padded (RFC 3550 §6.4.1 / A.2).
      if (offset + length != size) return rejected;
      uint8_t padLen = p[length - 1];
      if (padLen == 0 || padLen > length - 4) return rejected;
      bodyEnd = length - padLen;
    }

    switch (pt) {
      case kPtSenderReport:
        if (bodyEnd < 28 + size_t(count) * 24) return rejected;
        result.senderReports++;
        break;
      case kPtReceiverReport:
        if (bodyEnd < 8 + size_t(count) * 24) return rejected;
        result.receiverReports++;
        break;
      case kPtPayloadFeedback:
      case kPtRtpFeedback: {
        if (bodyEnd < 12) return rejected;  // header + sender SSRC + media SSRC
        uint32_t mediaSsrc = get32(p + 8);
        if (pt == kPtPayloadFeedback && count == kFmtPli) {
          if (mediaSsrc == ourSsrc) {
            result.pli++;
          } else {
            result.ignoredFeedback++;
          }
        } else if (pt == kPtPayloadFeedback && count == kFmtFir) {
          // FCI: one or more 8-byte entries {SSRC, seq nr, reserved}; media SSRC is unused.
          size_t fciBytes = bodyEnd - 12;
          if (fciBytes == 0 || fciBytes % 8 != 0) return rejected;
          for (size_t e = 12; e < bodyEnd; e += 8) {
            if (get32(p + e) == ourSsrc) {
              result.fir++;
              result.lastFirSeq = p[e + 4];
            } else {
              result.ignoredFeedback++;
            }
          }
        } else if (pt == kPtRtpFeedback && count == 1) {  // generic NACK
          if ((bodyEnd - 12) % 4 != 0) return rejected;
          if (mediaSsrc == ourSsrc) {
            result.nack++;
          } else {
            result.ignoredFeedback++;
          }
        } else {
          result.ignoredFeedback++;  // REMB, TWCC, ... : valid but not ours to act on
        }
        break;
      }
      default:
        break;  // SDES, BYE, APP, XR: structurally valid, nothing to do
    }
    result.packets++;
    offset += length;
  }
  return result;
}

}  // namespace rtcp
}  // namespace deskcast
