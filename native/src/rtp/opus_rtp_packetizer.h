// RFC 7587 Opus RTP packetizer: one Opus packet (one 20 ms frame) per RTP packet, 48 kHz RTP
// clock whatever the real sample rate, no payload header. The caller encodes straight into
// payload() (no copy); finish() writes the 12-byte RTP header in front of it.
// Allocation-free after construction: one reusable packet buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rtp/rtp_header.h"

namespace deskcast {

class OpusRtpPacketizer {
 public:
  static constexpr size_t kHeaderSize = kRtpFixedHeaderSize;
  static constexpr size_t kMaxOpusPacket = 1275;  // RFC 6716 §3.2.1: largest single-frame packet

  OpusRtpPacketizer(uint32_t ssrc, uint8_t payloadType, uint16_t firstSequenceNumber);

  // Where the next Opus packet goes, and how much room it has (kMaxOpusPacket).
  uint8_t* payload() noexcept { return buffer_.data() + kHeaderSize; }
  size_t payloadCapacity() const noexcept { return kMaxOpusPacket; }

  // Completes the packet whose payload (payloadSize bytes) was written to payload(): writes the
  // header with the next sequence number. `marker` flags the first packet of a talkspurt (RFC
  // 3551 §4.1: deskcast sets it on the first packet after a discontinuity). Returns the datagram
  // size; the datagram is data()[0..size). 0 if payloadSize is 0 or too large.
  size_t finish(size_t payloadSize, uint32_t timestamp, bool marker) noexcept;

  const uint8_t* data() const noexcept { return buffer_.data(); }
  uint16_t nextSequenceNumber() const noexcept { return sequence_; }
  uint32_t ssrc() const noexcept { return ssrc_; }

 private:
  uint32_t ssrc_;
  uint8_t payloadType_;
  uint16_t sequence_;
  std::vector<uint8_t> buffer_;
};

}  // namespace deskcast
