// The audio pipeline: PulseAudio capture (PulseCapture, libpulse's own thread) → Opus
// (OpusAudioEncoder) → RFC 7587 RTP over one UDP socket (rtcp-mux) to a mediasoup
// PlainTransport, plus a small control thread for RTCP (SRs out once a second, incoming RTCP
// read and ignored), stats and warnings.
//
// - The per-chunk path (encode, packetize, send) runs in PulseCapture's chunk callback: no
//   allocation, no lock but one tiny uncontended mutex, no JS.
// - RTP timestamps come from the process-wide MediaClock (AudioRtpTimeline): contiguous, 960
//   per chunk, re-anchored only on a discontinuity. SRs pair NTP and RTP through the same clock
//   and the same CNAME as the video, so receivers can lip-sync.
// - An unreachable sound server is not an error: start() succeeds, 'state' events say why
//   nothing is captured, and PulseCapture reconnects by itself.
// - ONE AudioSession per process (a second one throws ERR_SESSION_ACTIVE); it coexists with the
//   one VideoSession.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "audio/opus_encoder.h"
#include "audio/pulse_capture.h"
#include "audio/audio_rtp_timeline.h"
#include "rtp/opus_rtp_packetizer.h"
#include "common/process_slot.h"
#include "common/session_events.h"
#include "net/udp_socket.h"
#include "common/wake_event.h"

namespace deskcast {

struct AudioSessionConfig {
  std::string source;  // "" = the default sink's monitor
  std::string server;  // "" = libpulse's default ($PULSE_SERVER, then the user's socket)
  std::string cookieFile;  // "" = libpulse's default ($PULSE_COOKIE, then ~/.config/pulse/cookie)
  int bitrateKbps = 128;
  std::string destinationHost;
  uint16_t destinationPort = 0;
  uint32_t ssrc = 0;
  uint8_t payloadType = 111;
  std::string cname;
  uint32_t retryIntervalMs = 1000;  // sound-server reconnect interval (not exposed to JS)
};

class AudioSession final {
 public:
  // Opens the encoder and the socket. Throws DeskcastError with advice. `events` must outlive
  // the session.
  AudioSession(const AudioSessionConfig& config, EventSink& events);
  ~AudioSession();
  AudioSession(const AudioSession&) = delete;
  AudioSession& operator=(const AudioSession&) = delete;

  // Starts capturing (and reconnecting) and the control thread. Throws ERR_SESSION_STATE when
  // started twice or stopped, ERR_AUDIO_CAPTURE when libpulse cannot even start its thread.
  void start();
  // Re-points RTP/RTCP (same local port) and sends an SR at once. Throws ERR_SOCKET /
  // ERR_SESSION_STATE.
  void setDestination(const std::string& host, uint16_t port);
  // Stops capture, joins both threads, releases the socket, encoder and eventfd. Idempotent.
  void stop() noexcept;

  uint16_t localPort() const noexcept { return localPort_; }

 private:

  // capture thread (libpulse's), allocation-free
  void onChunk(const audio::AudioChunk& chunk) noexcept;
  void onCaptureState(const audio::CaptureStateEvent& event) noexcept;

  // control thread
  void controlLoop() noexcept;
  void handleIncomingDatagrams() noexcept;
  bool maybeSendSenderReport(int64_t nowNs) noexcept;
  void emitStats(int64_t nowNs) noexcept;
  void reportProblems(int64_t nowNs) noexcept;

  std::string destinationText();

  // --- fixed at construction
  std::unique_ptr<ProcessSlot<AudioSession>> slot_;
  EventSink& events_;
  const AudioSessionConfig config_;
  uint16_t localPort_ = 0;

  // --- owned handles
  std::unique_ptr<UdpSocket> socket_;
  std::unique_ptr<audio::OpusAudioEncoder> encoder_;
  std::unique_ptr<audio::PulseCapture> capture_;
  std::unique_ptr<WakeEvent> wake_;
  std::thread controlThread_;

  // --- capture thread only
  OpusRtpPacketizer packetizer_;
  AudioRtpTimeline timeline_;
  int64_t lastCaptureNs_ = 0;

  // --- capture thread → control thread
  std::mutex anchorMutex_;          // guards the two fields below (held for a few ns)
  uint32_t anchorRtp_ = 0;          // RTP timestamp of the newest chunk ...
  int64_t anchorCaptureNs_ = 0;     // ... and the monotonic time its first sample was captured
  std::atomic<uint64_t> chunks_{0};
  std::atomic<uint64_t> packets_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint32_t> payloadOctets_{0};  // RTCP SR octet count (wraps, RFC 3550)
  std::atomic<uint64_t> encodeNsTotal_{0};
  std::atomic<uint64_t> encoded_{0};
  std::atomic<uint64_t> encodeErrors_{0};
  std::atomic<int32_t> lastEncodeError_{0};
  std::atomic<uint64_t> sendErrors_{0};
  std::atomic<int> lastSendErrno_{0};
  std::atomic<uint64_t> discontinuities_{0};
  std::atomic<int64_t> lastPacketNs_{0};
  std::atomic<int64_t> timingSettlesAtNs_{0};  // no SR before: capture times still moving

  // --- JS thread → control thread
  std::mutex destinationMutex_;
  std::string destinationText_;  // guarded by destinationMutex_
  std::atomic<bool> senderReportNow_{false};
  std::atomic<bool> stopRequested_{false};
  bool started_ = false;
  bool stopped_ = false;

  // --- control thread only
  uint64_t senderReports_ = 0;
  uint64_t rtcpReceived_ = 0;
  uint64_t rtcpMalformed_ = 0;
  uint64_t windowEncodeNs_ = 0;
  uint64_t windowEncoded_ = 0;
  uint64_t warnedSendErrors_ = 0;
  uint64_t warnedEncodeErrors_ = 0;
  int64_t lastSendWarnNs_ = 0;
  int64_t lastEncodeWarnNs_ = 0;
  uint8_t datagram_[2048];
};

}  // namespace deskcast
