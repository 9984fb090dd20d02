// The optional second video stream: VP8 of the same pictures as the H.264 stream, for viewers
// whose browser cannot decode the H.264 (Firefox without OpenH264). Owned by VideoSession,
// which calls it from its pipeline thread; it shares the session's socket (mediasoup's
// PlainTransport takes both producers and tells them apart by SSRC) and the media clock, and
// sends its own SRs with the same CNAME.
//
// Off by default and costs nothing while off: setEnabled(true) (any thread) makes the next frame
// open libvpx; setEnabled(false) closes it on the next frame. Encode errors never stop the
// H.264 stream: VP8 switches itself off with a warning.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/session_events.h"
#include "net/udp_socket.h"
#include "rtp/vp8_rtp_packetizer.h"
#include "video/vp8_encoder.h"

namespace deskcast {

struct Vp8StreamConfig {
  bool available = false;  // VP8 SSRC and payload type were given
  uint32_t ssrc = 0;
  uint8_t payloadType = 0;
  std::string cname;
};

class Vp8Stream final : private Vp8FrameSink, private RtpPacketSink {
 public:
  Vp8Stream(const Vp8StreamConfig& config, EventSink& events);
  ~Vp8Stream() override;

  bool available() const noexcept { return config_.available; }
  // Any thread. The pipeline applies it at its next frame.
  void setEnabled(bool enabled) noexcept;
  void requestKeyframe() noexcept;
  // Pipeline thread: the VP8 side needs a frame now even if the screen is still (a keyframe was
  // asked for, or the encoder must open or close).
  bool wantsFrame() const noexcept {
    const bool enabled = enabled_.load();
    return (enabled && keyframeRequested_.load()) || enabled != (encoder_ != nullptr);
  }

  // --- pipeline thread
  // After the H.264 encode of `picture` (settings = the H.264 encoder's current ones).
  void encodeFrame(const YuvPicture& picture, const Vp8Settings& settings, int64_t captureNs,
                   UdpSocket& socket) noexcept;
  // Every valid RTCP datagram the session reads: PLI/FIR for the VP8 SSRC → keyframe.
  void onRtcp(const uint8_t* data, size_t size) noexcept;
  void maybeSendSenderReport(int64_t nowNs, bool urgent, UdpSocket& socket) noexcept;
  // Adds the vp8* fields to the session's stats (closing the ~1 s timing window).
  void fillStats(VideoStats& stats) noexcept;
  // Frees libvpx (stop(), or when disabled).
  void close() noexcept;

 private:
  void onVp8Frame(const uint8_t* data, size_t size, bool keyframe, bool droppable) override;
  void onRtpPacket(const uint8_t* packet, size_t size, size_t payloadSize) override;

  static constexpr size_t kSampleWindow = 256;

  const Vp8StreamConfig config_;
  EventSink& events_;
  const uint32_t rtpTimestampOffset_;
  std::atomic<bool> enabled_{false};
  std::atomic<bool> keyframeRequested_{false};

  // pipeline thread only
  std::unique_ptr<Vp8Encoder> encoder_;
  std::unique_ptr<Vp8RtpPacketizer> packetizer_;
  UdpSocket* socket_ = nullptr;  // during encodeFrame() only
  uint32_t rtpTimestamp_ = 0;
  uint32_t rtpPacketCount_ = 0;
  uint32_t rtpOctetCount_ = 0;
  int64_t lastSenderReportNs_ = 0;
  int lastFirSeq_ = -1;
  uint64_t framesSent_ = 0;
  uint64_t keyframesSent_ = 0;
  uint64_t bytesSent_ = 0;
  uint64_t pliReceived_ = 0;
  uint64_t firReceived_ = 0;
  uint64_t sendErrors_ = 0;
  float encodeMs_[kSampleWindow];
  size_t samples_ = 0;
};

}  // namespace deskcast
