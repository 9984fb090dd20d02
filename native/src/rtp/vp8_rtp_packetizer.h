// RFC 7741 VP8 RTP packetizer. Every packet carries the 4-byte payload descriptor
// X=1, S (start of the frame's first partition), PID 0, I=1 and a 15-bit picture id (M=1)
// that increases per frame: mediasoup and browsers use the picture id to spot gaps, and
// mediasoup finds keyframes from S=1/PID=0 plus the VP8 header's P bit. The frame is split
// into equal-sized packets (no partition boundaries: the encoder emits one token partition).
// The marker bit is set on the frame's last packet. Allocation-free after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rtp/rtp_packetizer.h"

namespace deskcast {

inline constexpr size_t kVp8DescriptorSize = 4;

class Vp8RtpPacketizer {
 public:
  Vp8RtpPacketizer(uint32_t ssrc, uint8_t payloadType, uint16_t firstSequenceNumber,
                   uint16_t firstPictureId, size_t maxPayload = kDefaultMaxRtpPayload);

  // Sends one encoded VP8 frame; `nonReference` sets the N bit (a frame nothing refers to).
  // Returns the number of packets produced (0 for an empty frame).
  size_t packetize(const uint8_t* frame, size_t size, uint32_t timestamp, bool nonReference,
                   RtpPacketSink& sink);

  uint16_t nextSequenceNumber() const noexcept { return sequence_; }
  uint16_t nextPictureId() const noexcept { return pictureId_; }
  uint32_t ssrc() const noexcept { return ssrc_; }

 private:
  uint32_t ssrc_;
  uint8_t payloadType_;
  uint16_t sequence_;
  uint16_t pictureId_;  // 15 bits
  size_t maxPayload_;
  std::vector<uint8_t> buffer_;
};

}  // namespace deskcast
