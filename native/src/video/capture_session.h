// The video pipeline: one thread that captures the X screen at the configured fps, converts,
// encodes H.264, packetizes RTP and sends it (plus RTCP SRs) over one UDP socket, and reacts to
// RTCP PLI/FIR arriving on that socket with an IDR.
//
// ONE session per process (constructing a second while one is active throws). It is
// reconfigured in place — fps, bitrate, keyframe interval, output size, and screen size
// changes — and never re-created. No allocation and no JS call on the per-frame path.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "video/color_convert.h"
#include "video/h264_encoder.h"
#include "video/h264_nal.h"
#include "common/process_slot.h"
#include "rtp/rtp_packetizer.h"
#include "common/session_events.h"
#include "net/udp_socket.h"
#include "common/wake_event.h"
#include "capture/x11_capture.h"

namespace deskcast {

struct VideoSessionConfig {
  std::string display;
  int fps = 30;
  int bitrateKbps = 3000;
  double keyframeIntervalSec = 2.0;
  EncoderPreference encoder = EncoderPreference::kAuto;
  int width = 0;   // requested output size; 0 = follow the screen (one 0: keep aspect ratio)
  int height = 0;
  std::string destinationHost;
  uint16_t destinationPort = 0;
  uint32_t ssrc = 0;
  uint8_t payloadType = 96;
  std::string cname;
  bool drawCursor = true;
};

struct VideoReconfigure {
  std::optional<int> fps;
  std::optional<int> bitrateKbps;
  std::optional<int> width;
  std::optional<int> height;
  std::optional<double> keyframeIntervalSec;
};

struct VideoStartInfo {
  std::string encoder;
  int width = 0;
  int height = 0;
  std::vector<SkippedEncoder> skipped;
};

class CaptureSession final : private EncodedPacketSink, private RtpPacketSink {
 public:
  // Opens the display, the encoder and the socket. Throws DeskcastError with advice.
  // `events` must outlive the session.
  CaptureSession(const VideoSessionConfig& config, EventSink& events);
  ~CaptureSession() override;
  CaptureSession(const CaptureSession&) = delete;
  CaptureSession& operator=(const CaptureSession&) = delete;

  // Starts the pipeline thread. Throws DeskcastError(ERR_SESSION_STATE) if not startable.
  VideoStartInfo start();
  // Applied by the pipeline thread before its next frame. Throws ERR_SESSION_STATE when stopped.
  void reconfigure(const VideoReconfigure& changes);
  // Re-points RTP/RTCP (same local port). Throws ERR_SOCKET / ERR_SESSION_STATE.
  void setDestination(const std::string& host, uint16_t port);
  // Forces an IDR on the next frame (sent immediately). No-op once stopped.
  void requestKeyframe() noexcept;
  // Joins the thread and releases every handle. Idempotent.
  void stop() noexcept;

  uint16_t localPort() const noexcept { return localPort_; }

 private:
  static constexpr size_t kSampleWindow = 256;

  void run() noexcept;
  void pipelineLoop();
  void waitUntil(int64_t deadlineNs);
  void handleIncomingDatagrams();
  void applyPendingChanges();
  void applyOutputGeometry(bool screenChanged);
  void processFrame(int64_t frameStartNs, uint32_t keyframeMask);
  void maybeSendSenderReport(int64_t nowNs);
  void maybeEmitStats(int64_t nowNs);
  void noteSendError(int err);
  void postKeyframe(KeyframeReason reason) noexcept;
  EncoderSettings encoderSettingsFor(int width, int height) const;
  int64_t frameIntervalNs() const noexcept { return 1000000000LL / fps_; }

  void onEncodedPacket(const uint8_t* data, size_t size, bool keyframe) override;
  void onRtpPacket(const uint8_t* packet, size_t size, size_t payloadSize) override;

  // --- fixed at construction
  std::unique_ptr<ProcessSlot<CaptureSession>> slot_;
  EventSink& events_;
  const uint32_t ssrc_;
  const std::string cname_;
  const uint32_t rtpTimestampOffset_;
  uint16_t localPort_ = 0;

  // --- owned handles (pipeline thread while running, JS thread otherwise)
  std::unique_ptr<X11Capture> capture_;
  std::unique_ptr<H264Encoder> encoder_;
  std::unique_ptr<UdpSocket> socket_;
  std::unique_ptr<H264RtpPacketizer> packetizer_;
  ColorConverter converter_;
  std::unique_ptr<WakeEvent> wake_;
  std::thread thread_;

  // --- control (JS thread → pipeline thread)
  std::mutex controlMutex_;
  VideoReconfigure pending_;           // guarded by controlMutex_
  std::string destinationText_;        // guarded by controlMutex_
  std::atomic<bool> hasPending_{false};
  std::atomic<uint32_t> keyframeRequests_{0};  // bit per KeyframeReason
  std::atomic<bool> senderReportNow_{false};
  std::atomic<bool> stopRequested_{false};
  std::atomic<bool> failed_{false};
  bool started_ = false;
  bool stopped_ = false;

  // --- pipeline state (pipeline thread only)
  int fps_;
  int bitrateKbps_;
  double keyframeIntervalSec_;
  int requestedWidth_;
  int requestedHeight_;
  int64_t nextFrameNs_ = 0;
  uint32_t currentRtpTimestamp_ = 0;
  std::optional<KeyframeReason> forcedKeyframeReason_;
  uint32_t deferredKeyframeMask_ = 0;  // requests a failed grab could not serve yet
  bool frameSendFailed_ = false;
  unsigned consecutiveCaptureFailures_ = 0;
  std::vector<h264::NalUnit> nals_;
  std::vector<h264::NalUnit> outNals_;
  std::vector<uint8_t> cachedSps_;
  std::vector<uint8_t> cachedPps_;
  std::vector<uint8_t> datagram_;
  int lastFirSeq_ = -1;

  // counters and timing
  VideoStats totals_;
  uint32_t rtpPacketCount_ = 0;
  uint32_t rtpOctetCount_ = 0;
  int64_t lastSenderReportNs_ = 0;
  int64_t windowStartNs_ = 0;
  uint64_t windowFrames_ = 0;
  size_t windowSamples_ = 0;
  float captureMs_[kSampleWindow];
  float convertMs_[kSampleWindow];
  float encodeMs_[kSampleWindow];
  uint64_t sendErrors_ = 0;
  uint64_t sendErrorsSinceWarn_ = 0;
  int lastSendErrno_ = 0;
  int64_t lastSendWarnNs_ = 0;
};

}  // namespace deskcast
