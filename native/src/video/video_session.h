// The video pipeline: one thread that grabs the screen from a ScreenSource, converts, encodes
// H.264, packetizes RTP and sends it (plus RTCP SRs) over one UDP socket, and reacts to RTCP
// PLI/FIR arriving on that socket with an IDR.
//
// Change-driven sources (X DAMAGE): a frame is grabbed when the screen changes — at once when
// the last frame is at least 1/fps old, else at that pacing deadline — and nothing is grabbed
// or encoded while the screen is still (SRs keep flowing); a keyframe request encodes the
// persistent picture as an IDR at once. Other sources: a frame every 1/fps.
//
// ONE session per process (constructing a second while one is active throws). It is
// reconfigured in place — fps, bitrate, keyframe interval, output size, and screen size
// changes — and never re-created. No allocation and no JS call on the per-frame path.
//
// Threads: the owner (the JS thread) constructs, reconfigures, re-points and stops; start()
// blocks on the display server, encoder probing and name resolution, so the binding runs it on
// a worker thread; the pipeline thread it launches does the rest.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "capture/screen_source.h"
#include "capture/screen_source_factory.h"
#include "common/process_slot.h"
#include "common/session_events.h"
#include "common/wake_event.h"
#include "net/udp_socket.h"
#include "rtp/rtp_packetizer.h"
#include "video/color_convert.h"
#include "video/h264_encoder.h"
#include "video/h264_nal.h"
#include "video/vp8_stream.h"

namespace deskcast {

struct VideoSessionConfig {
  ScreenSourceConfig screen;
  int fps = 30;
  int bitrateKbps = 3000;
  double keyframeIntervalSec = 0;  // 0: keyframes on request only (PLI/FIR, start, ...)
  EncoderPreference encoder = EncoderPreference::kAuto;
  int width = 0;   // requested output size; 0 = follow the screen (one 0: keep aspect ratio)
  int height = 0;
  std::string destinationHost;
  uint16_t destinationPort = 0;
  uint32_t ssrc = 0;
  uint8_t payloadType = 96;
  std::string cname;
  RtpFrameExtensions rtpExtensions;  // ids only (0 = off); the capture time is filled per frame
  Vp8StreamConfig vp8;  // the optional VP8 stream on the same socket (off until setVp8Enabled)
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
  std::string backend;  // how the screen is captured: ScreenSource::backend()
  int width = 0;
  int height = 0;
  std::vector<SkippedEncoder> skipped;
};

class VideoSession final : private EncodedPacketSink, private RtpPacketSink {
 public:
  // Opens nothing: takes the process's one video slot (throws ERR_SESSION_ACTIVE) and creates
  // the (unopened) screen source. `events` must outlive the session.
  VideoSession(const VideoSessionConfig& config, EventSink& events);
  ~VideoSession() override;
  VideoSession(const VideoSession&) = delete;
  VideoSession& operator=(const VideoSession&) = delete;

  // Opens the screen source, the encoder (walking the backend chain) and the socket, then
  // starts the pipeline thread. Blocking: call it off the JS thread. Throws DeskcastError with
  // advice; ERR_SESSION_STATE when stopped, started twice, or cancelled meanwhile. After a
  // failure the session holds no handles (stop() it to free the process slot).
  VideoStartInfo start();
  // Makes a start() running on another thread give up after its current step. Non-blocking.
  void cancelStart() noexcept;
  // Applied by the pipeline thread before its next frame (by start() when it has not run yet).
  // Throws ERR_SESSION_STATE when stopped or failed.
  void reconfigure(const VideoReconfigure& changes);
  // Re-points RTP/RTCP (same local port); before start() has opened the socket, start() uses
  // it. Resolves `host` on the calling thread. Throws ERR_SOCKET / ERR_SESSION_STATE.
  void setDestination(const std::string& host, uint16_t port);
  // Forces an IDR on the next frame (sent immediately). No-op once stopped.
  void requestKeyframe() noexcept;
  // Starts/stops the VP8 stream (same pictures, its own SSRC) from the next frame; the capture
  // is untouched. Throws ERR_SESSION_STATE when the session has no VP8 SSRC.
  void setVp8Enabled(bool enabled);
  // Joins the thread and releases every handle; waits for a start() in progress on another
  // thread (cancelStart() first to keep that short). Idempotent.
  void stop() noexcept;

  // 0 until start() has opened the socket.
  uint16_t localPort() const noexcept { return localPort_.load(); }

  // The message of the ERR_SESSION_STATE error a cancelled start() throws.
  static const char* const kStoppedWhileStarting;

 private:
  static constexpr size_t kSampleWindow = 256;

  void openPipeline();
  void throwIfCancelled() const;
  void releaseHandles() noexcept;
  void run() noexcept;
  void pipelineLoop();
  void waitUntil(int64_t deadlineNs);
  void handleIncomingDatagrams();
  void applyPendingChanges();
  void applyOutputGeometry(bool screenChanged);
  // Returns true when a frame was encoded and sent. `repeat`: encode the picture even if
  // nothing changed (the tail frame below).
  bool processFrame(int64_t frameStartNs, uint32_t keyframeMask, bool repeat = false);
  void maybeSendSenderReport(int64_t nowNs);
  int64_t nextHousekeepingNs() const noexcept;
  // After a frame went out: when the next repeat of a still picture is due (tailDueNs_).
  void planTail(int64_t frameStartNs, bool sent, bool wasTail, bool receiverAskedKeyframe) noexcept;
  void maybeEmitStats(int64_t nowNs);
  void noteSendError(int err);
  void postKeyframe(KeyframeReason reason) noexcept;
  EncoderSettings encoderSettingsFor(int width, int height) const;
  int64_t frameIntervalNs() const noexcept { return 1000000000LL / fps_; }

  void onEncodedPacket(const uint8_t* data, size_t size, bool keyframe) override;
  void onRtpPacket(const uint8_t* packet, size_t size, size_t payloadSize) override;

  // --- fixed at construction
  std::unique_ptr<ProcessSlot<VideoSession>> slot_;
  EventSink& events_;
  const VideoSessionConfig config_;
  const uint32_t rtpTimestampOffset_;
  std::atomic<uint16_t> localPort_{0};

  // --- owned handles (start() while opening, then the pipeline thread; stop() releases them)
  std::unique_ptr<ScreenSource> source_;
  std::unique_ptr<H264Encoder> encoder_;
  std::unique_ptr<UdpSocket> socket_;  // set under controlMutex_: setDestination() may race start()
  std::unique_ptr<H264RtpPacketizer> packetizer_;
  ColorConverter converter_;
  Vp8Stream vp8_;
  std::unique_ptr<WakeEvent> wake_;  // from construction: control calls may signal any time
  std::thread thread_;

  // --- lifecycle: start() (worker thread) and stop() (owner) exclude each other
  std::mutex lifecycleMutex_;
  bool started_ = false;  // guarded by lifecycleMutex_
  std::atomic<bool> stopped_{false};

  // --- control (owner → pipeline thread)
  std::mutex controlMutex_;
  VideoReconfigure pending_;                     // guarded by controlMutex_
  std::string destinationText_;                  // guarded by controlMutex_
  std::optional<SocketAddress> newDestination_;  // guarded; set before the socket exists
  std::atomic<bool> hasPending_{false};
  std::atomic<uint32_t> keyframeRequests_{0};  // bit per KeyframeReason
  std::atomic<bool> senderReportNow_{false};
  std::atomic<bool> stopRequested_{false};     // also cancels a start() in progress
  std::atomic<bool> failed_{false};

  // --- pipeline state (pipeline thread only)
  int fps_;
  int bitrateKbps_;
  double keyframeIntervalSec_;
  int requestedWidth_;
  int requestedHeight_;
  int64_t nextFrameNs_ = 0;
  int64_t lastFrameNs_ = 0;
  int64_t lastSourcePollNs_ = 0;  // start of the last frame grabbed (change-driven pacing)
  bool frameNeeded_ = false;  // the source asked for a frame before the next tick
  // Change-driven capture sends nothing on a still screen, so a receiver that missed the last
  // frame (a lost last packet, an IDR sent before its DTLS-SRTP was ready) would not notice
  // until the next change. Repeats of the unchanged picture (all-skip P-frames, a few dozen
  // bytes each) let it see the gap and NACK or PLI at once: one 150 ms after a change; after a
  // keyframe asked for (PLI/FIR, or requestKeyframe(): a viewer joining), a series at doubling gaps up to
  // 1.3 s, because mediasoup asks for that keyframe the moment its side of DTLS is done, and the
  // browser's SRTP may be ready only some time later (longer under load and for a browser's
  // first connection); a joiner that missed the keyframe and every repeat waits for the
  // browser's own keyframe timer (3 s).
  static constexpr int64_t kTailAfterChangeNs[] = {150'000'000};
  static constexpr int64_t kTailAfterKeyframeNs[] = {40'000'000,  80'000'000,  160'000'000,
                                                     320'000'000, 640'000'000, 1'280'000'000};
  const int64_t* tailOffsetsNs_ = nullptr;  // offsets from tailBaseNs_ of the repeats planned
  size_t tailCount_ = 0;
  size_t tailSent_ = 0;
  int64_t tailBaseNs_ = 0;
  int64_t tailDueNs_ = INT64_MAX;
  BgrxFrame frame_;
  uint32_t currentRtpTimestamp_ = 0;
  RtpFrameExtensions frameExtensions_;
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
  float changeToGrabMs_[kSampleWindow];
  size_t changeSamples_ = 0;
  float sendMs_[kSampleWindow];
  int64_t sendNs_ = 0;  // time spent packetizing + sending in the current frame
  uint64_t sendErrors_ = 0;
  uint64_t sendErrorsSinceWarn_ = 0;
  int lastSendErrno_ = 0;
  int64_t lastSendWarnNs_ = 0;
};

}  // namespace deskcast
