// The fixed 12-byte RTP header (RFC 3550 §5.1) every deskcast stream writes: V=2, no padding,
// no extension, no CSRCs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace deskcast {

constexpr size_t kRtpFixedHeaderSize = 12;

inline void writeRtpHeader(uint8_t* p, bool marker, uint8_t payloadType, uint16_t sequence,
                           uint32_t timestamp, uint32_t ssrc) noexcept {
  p[0] = 0x80;
  p[1] = static_cast<uint8_t>((marker ? 0x80 : 0x00) | (payloadType & 0x7f));
  p[2] = static_cast<uint8_t>(sequence >> 8);
  p[3] = static_cast<uint8_t>(sequence);
  p[4] = static_cast<uint8_t>(timestamp >> 24);
  p[5] = static_cast<uint8_t>(timestamp >> 16);
  p[6] = static_cast<uint8_t>(timestamp >> 8);
  p[7] = static_cast<uint8_t>(timestamp);
  p[8] = static_cast<uint8_t>(ssrc >> 24);
  p[9] = static_cast<uint8_t>(ssrc >> 16);
  p[10] = static_cast<uint8_t>(ssrc >> 8);
  p[11] = static_cast<uint8_t>(ssrc);
}

}  // namespace deskcast
