#include "opus_rtp_packetizer.h"

namespace deskcast {

OpusRtpPacketizer::OpusRtpPacketizer(uint32_t ssrc, uint8_t payloadType, uint16_t firstSequenceNumber)
    : ssrc_(ssrc), payloadType_(payloadType & 0x7f), sequence_(firstSequenceNumber),
      buffer_(kHeaderSize + kMaxOpusPacket) {}

size_t OpusRtpPacketizer::finish(size_t payloadSize, uint32_t timestamp, bool marker) noexcept {
  if (payloadSize == 0 || payloadSize > kMaxOpusPacket) return 0;
  uint8_t* p = buffer_.data();
  p[0] = 0x80;  // V=2, no padding, no extension, no CSRCs
  p[1] = static_cast<uint8_t>((marker ? 0x80 : 0x00) | payloadType_);
  p[2] = static_cast<uint8_t>(sequence_ >> 8);
  p[3] = static_cast<uint8_t>(sequence_);
  p[4] = static_cast<uint8_t>(timestamp >> 24);
  p[5] = static_cast<uint8_t>(timestamp >> 16);
  p[6] = static_cast<uint8_t>(timestamp >> 8);
  p[7] = static_cast<uint8_t>(timestamp);
  p[8] = static_cast<uint8_t>(ssrc_ >> 24);
  p[9] = static_cast<uint8_t>(ssrc_ >> 16);
  p[10] = static_cast<uint8_t>(ssrc_ >> 8);
  p[11] = static_cast<uint8_t>(ssrc_);
  sequence_++;
  return kHeaderSize + payloadSize;
}

}  // namespace deskcast
