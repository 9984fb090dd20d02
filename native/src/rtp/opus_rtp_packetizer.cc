#include "rtp/opus_rtp_packetizer.h"

#include "rtp/rtp_header.h"

namespace deskcast {

OpusRtpPacketizer::OpusRtpPacketizer(uint32_t ssrc, uint8_t payloadType, uint16_t firstSequenceNumber)
    : ssrc_(ssrc), payloadType_(payloadType & 0x7f), sequence_(firstSequenceNumber),
      buffer_(kHeaderSize + kMaxOpusPacket) {}

size_t OpusRtpPacketizer::finish(size_t payloadSize, uint32_t timestamp, bool marker) noexcept {
  if (payloadSize == 0 || payloadSize > kMaxOpusPacket) return 0;
  writeRtpHeader(buffer_.data(), marker, payloadType_, sequence_, timestamp, ssrc_);
  sequence_++;
  return kHeaderSize + payloadSize;
}

}  // namespace deskcast
