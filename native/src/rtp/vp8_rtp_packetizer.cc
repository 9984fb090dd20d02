#include "rtp/vp8_rtp_packetizer.h"

#include <cstring>
#include <stdexcept>

#include "rtp/rtp_header.h"

namespace deskcast {

Vp8RtpPacketizer::Vp8RtpPacketizer(uint32_t ssrc, uint8_t payloadType, uint16_t firstSequenceNumber,
                                   uint16_t firstPictureId, size_t maxPayload)
    : ssrc_(ssrc), payloadType_(payloadType & 0x7f), sequence_(firstSequenceNumber),
      pictureId_(firstPictureId & 0x7fff), maxPayload_(maxPayload),
      buffer_(kRtpHeaderSize + maxPayload) {
  if (maxPayload <= kVp8DescriptorSize) throw std::invalid_argument("RTP max payload too small");
}

size_t Vp8RtpPacketizer::packetize(const uint8_t* frame, size_t size, uint32_t timestamp,
                                   bool nonReference, RtpPacketSink& sink) {
  if (size == 0) return 0;
  const size_t room = maxPayload_ - kVp8DescriptorSize;
  const size_t packets = (size + room - 1) / room;
  // Equal shares rather than full packets and a runt: no tiny last packet.
  const size_t share = (size + packets - 1) / packets;
  uint8_t* payload = buffer_.data() + kRtpHeaderSize;
  size_t pos = 0;
  for (size_t i = 0; i < packets; i++) {
    const size_t chunk = size - pos < share ? size - pos : share;
    const bool last = i + 1 == packets;
    writeRtpHeader(buffer_.data(), last, payloadType_, sequence_++, timestamp, ssrc_);
    payload[0] = static_cast<uint8_t>(0x80 | (nonReference ? 0x20 : 0) | (i == 0 ? 0x10 : 0));  // X N S, PID 0
    payload[1] = 0x80;                                                     // I: picture id present
    payload[2] = static_cast<uint8_t>(0x80 | (pictureId_ >> 8));          // M=1: 15-bit id
    payload[3] = static_cast<uint8_t>(pictureId_);
    memcpy(payload + kVp8DescriptorSize, frame + pos, chunk);
    sink.onRtpPacket(buffer_.data(), kRtpHeaderSize + kVp8DescriptorSize + chunk,
                     kVp8DescriptorSize + chunk);
    pos += chunk;
  }
  pictureId_ = static_cast<uint16_t>((pictureId_ + 1) & 0x7fff);
  return packets;
}

}  // namespace deskcast
