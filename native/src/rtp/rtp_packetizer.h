// RFC 6184 H.264 RTP packetizer, packetization-mode=1 subset: single NAL unit packets and
// FU-A fragments (no STAP-A). The marker bit is set on the last packet of each access unit.
// Allocation-free after construction: one reusable packet buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "video/h264_nal.h"
#include "rtp/rtp_header.h"

namespace deskcast {

inline constexpr size_t kRtpHeaderSize = kRtpFixedHeaderSize;
inline constexpr size_t kDefaultMaxRtpPayload = 1200;

class RtpPacketSink {
 public:
  virtual ~RtpPacketSink() = default;
  // `packet` is valid only during the call. `payloadSize` excludes the RTP header.
  virtual void onRtpPacket(const uint8_t* packet, size_t size, size_t payloadSize) = 0;
};

// RFC 8285 one-byte header extensions written on the FIRST packet of each frame (ids 1..14
// as negotiated in the producer's rtpParameters; 0 = not sent).
struct RtpFrameExtensions {
  uint8_t absCaptureTimeId = 0;  // abs-capture-time: 64-bit NTP capture time (short form)
  uint64_t captureNtp = 0;
  uint8_t playoutDelayId = 0;    // playout-delay: min = max = 0 (render at once)
};
inline constexpr size_t kMaxRtpExtensionBytes = 16;

class H264RtpPacketizer {
 public:
  H264RtpPacketizer(uint32_t ssrc, uint8_t payloadType, uint16_t firstSequenceNumber,
                    size_t maxPayload = kDefaultMaxRtpPayload);

  // Sends one access unit (all NAL units of one frame, in decoding order) as RTP packets with
  // the given timestamp. Returns the number of packets produced.
  size_t packetize(const h264::NalUnit* nals, size_t count, uint32_t timestamp,
                   RtpPacketSink& sink, const RtpFrameExtensions* extensions = nullptr);

  uint16_t nextSequenceNumber() const noexcept { return sequence_; }
  uint32_t ssrc() const noexcept { return ssrc_; }
  size_t maxPayload() const noexcept { return maxPayload_; }

 private:
  // Returns the header size (with the extension block when `ext` is given).
  size_t writeHeader(bool marker, uint32_t timestamp, const RtpFrameExtensions* ext) noexcept;

  uint32_t ssrc_;
  uint8_t payloadType_;
  uint16_t sequence_;
  size_t maxPayload_;
  std::vector<uint8_t> buffer_;
};

}  // namespace deskcast
