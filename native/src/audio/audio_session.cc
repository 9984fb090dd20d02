#include "audio/audio_session.h"

#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <random>
#include <utility>

#include "common/errors.h"
#include "common/media_clock.h"
#include "rtp/rtcp.h"

namespace deskcast {
namespace {

constexpr int64_t kNsPerSec = 1000000000LL;
constexpr int64_t kStatsIntervalNs = kNsPerSec;
constexpr int64_t kSenderReportIntervalNs = kNsPerSec;
constexpr int64_t kSenderReportRetryNs = 200000000LL;  // before the first packet
constexpr int64_t kSenderActiveNs = 2 * kNsPerSec;     // SRs only while we are a sender
constexpr int64_t kWarnIntervalNs = 5 * kNsPerSec;
// Capture times come from libpulse's latency estimate, which needs time to settle after a
// (re)connect: measured on a null sink's monitor, it is ~630 ms too old at first, holds that
// for ~0.7 s, then converges within another ~0.5-1 s. SRs made from it meanwhile would
// contradict the later ones (and bias a receiver's RTP→NTP regression), so SRs wait
// kSettleAfterConnectNs after a discontinuity, and kSettleAfterMoveNs after any step of the
// capture timeline that is not 20 ms give or take PulseCapture's gentle slew (≤ 40/32 ms): a
// re-anchor, i.e. the estimate moved. Every SR a receiver sees then maps RTP to NTP the same way.
constexpr int64_t kChunkNs = 20000000LL;
constexpr int64_t kSettleToleranceNs = 2000000LL;
constexpr int64_t kSettleAfterConnectNs = 2500000000LL;
constexpr int64_t kSettleAfterMoveNs = 500000000LL;


AudioState toAudioState(audio::CaptureState s) {
  switch (s) {
    case audio::CaptureState::Connecting: return AudioState::kConnecting;
    case audio::CaptureState::Connected: return AudioState::kConnected;
    case audio::CaptureState::Disconnected:
    case audio::CaptureState::Stopped: break;
  }
  return AudioState::kDisconnected;
}

}  // namespace

AudioSession::AudioSession(const AudioSessionConfig& config, EventSink& events)
    : slot_(std::make_unique<ProcessSlot<AudioSession>>(
          "an AudioSession is already active in this process (one audio session per process): "
          "setDestination() the existing one, or stop() it before creating another")),
      events_(events),
      config_(config),
      packetizer_(config.ssrc, config.payloadType, static_cast<uint16_t>(std::random_device{}())),
      timeline_(std::random_device{}()) {
  (void)MediaClock::instance();  // pin the epoch (shared with the video) before any capture

  wake_ = std::make_unique<WakeEvent>();

  audio::OpusAudioEncoderOptions encoderOptions;
  encoderOptions.bitrate = config.bitrateKbps * 1000;
  std::string error;
  encoder_ = audio::OpusAudioEncoder::create(encoderOptions, &error);
  if (!encoder_) throw DeskcastError(errc::kAudioEncoder, error);

  SocketAddress destination = SocketAddress::resolve(config.destinationHost, config.destinationPort);
  socket_ = std::make_unique<UdpSocket>(destination);
  localPort_ = socket_->localPort();
  destinationText_ = destination.toString();
}

AudioSession::~AudioSession() { stop(); }

void AudioSession::start() {
  if (stopped_) throw DeskcastError(errc::kSessionState, "this AudioSession was stopped; create a new AudioSession");
  if (started_) throw DeskcastError(errc::kSessionState, "AudioSession.start() was already called");

  audio::PulseCaptureOptions options;
  options.source = config_.source;
  options.server = config_.server;
  options.cookieFile = config_.cookieFile;
  options.clientName = "deskcast";
  options.streamName = "deskcast broadcast";
  options.retryIntervalMs = config_.retryIntervalMs;
  options.onChunk = [this](const audio::AudioChunk& chunk) { onChunk(chunk); };
  options.onState = [this](const audio::CaptureStateEvent& event) { onCaptureState(event); };

  // The control thread first: it must be reading the socket when the first packet goes out.
  controlThread_ = std::thread(&AudioSession::controlLoop, this);
  std::string error;
  capture_ = audio::PulseCapture::create(std::move(options), &error);
  if (!capture_) {
    stopRequested_.store(true);
    if (wake_) wake_->signal();
    controlThread_.join();
    throw DeskcastError(errc::kAudioCapture, error);
  }
  started_ = true;
  events_.postLog(false, "audio: capturing " +
                     (config_.source.empty() ? std::string("the default sink's monitor") : "'" + config_.source + "'") +
                     " from " + (config_.server.empty() ? std::string("the default sound server") : config_.server) +
                     "; Opus " + std::to_string(config_.bitrateKbps) + " kb/s stereo, 20 ms, RTP to " +
                     destinationText());
}

void AudioSession::setDestination(const std::string& host, uint16_t port) {
  if (stopped_) throw DeskcastError(errc::kSessionState, "this AudioSession was stopped");
  SocketAddress destination = SocketAddress::resolve(host, port);
  {
    std::lock_guard<std::mutex> lock(destinationMutex_);
    socket_->connect(destination);  // safe against concurrent send()/recv() on the other threads
    destinationText_ = destination.toString();
  }
  // A new PlainTransport knows nothing yet: give it a sender report at once (lip sync).
  senderReportNow_.store(true);
  if (wake_) wake_->signal();
}

void AudioSession::stop() noexcept {
  if (stopped_) return;
  stopped_ = true;
  if (capture_) capture_->stop();  // joins libpulse's thread: no chunk callback after this
  capture_.reset();
  stopRequested_.store(true);
  if (wake_) wake_->signal();
  if (controlThread_.joinable()) controlThread_.join();
  encoder_.reset();
  socket_.reset();
  wake_.reset();
  slot_.reset();  // a new AudioSession may be created now
}



std::string AudioSession::destinationText() {
  std::lock_guard<std::mutex> lock(destinationMutex_);
  return destinationText_;
}

// ---- capture thread ----

void AudioSession::onChunk(const audio::AudioChunk& chunk) noexcept {
  chunks_.fetch_add(1, std::memory_order_relaxed);
  const int64_t captureNs = chunk.captureTimeUs * 1000;
  const uint32_t timestamp = timeline_.next(captureNs, chunk.discontinuity, chunk.frames);
  const bool reanchored = timeline_.reanchored();
  if (reanchored) discontinuities_.fetch_add(1, std::memory_order_relaxed);
  // libpulse's latency (hence the capture time) needs a second or so to settle after a
  // (re)connect; SRs made from it meanwhile would contradict each other (see kSettleAfter*).
  const int64_t step = captureNs - lastCaptureNs_;
  if (reanchored) {
    timingSettlesAtNs_.store(MediaClock::nowNs() + kSettleAfterConnectNs, std::memory_order_relaxed);
  } else if (step < kChunkNs - kSettleToleranceNs || step > kChunkNs + kSettleToleranceNs) {
    const int64_t settles = MediaClock::nowNs() + kSettleAfterMoveNs;
    if (settles > timingSettlesAtNs_.load(std::memory_order_relaxed)) {
      timingSettlesAtNs_.store(settles, std::memory_order_relaxed);
    }
  }
  lastCaptureNs_ = captureNs;
  {
    std::lock_guard<std::mutex> lock(anchorMutex_);
    anchorRtp_ = timestamp;
    anchorCaptureNs_ = captureNs;
  }

  const int64_t t0 = MediaClock::nowNs();
  const int32_t size = encoder_->encode(chunk.samples, chunk.frames, packetizer_.payload(), packetizer_.payloadCapacity());
  const int64_t t1 = MediaClock::nowNs();
  if (size <= 0) {
    lastEncodeError_.store(size, std::memory_order_relaxed);
    encodeErrors_.fetch_add(1, std::memory_order_relaxed);
    return;  // the timeline moved on: the receiver conceals the gap
  }
  encodeNsTotal_.fetch_add(static_cast<uint64_t>(t1 - t0), std::memory_order_relaxed);
  encoded_.fetch_add(1, std::memory_order_relaxed);

  const size_t datagram = packetizer_.finish(static_cast<size_t>(size), timestamp, reanchored);
  const int err = socket_->send(packetizer_.data(), datagram);
  if (err != 0) {
    lastSendErrno_.store(err, std::memory_order_relaxed);
    sendErrors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  packets_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(datagram, std::memory_order_relaxed);
  payloadOctets_.fetch_add(static_cast<uint32_t>(size), std::memory_order_relaxed);
  lastPacketNs_.store(t1, std::memory_order_release);
}

void AudioSession::onCaptureState(const audio::CaptureStateEvent& event) noexcept {
  if (event.state == audio::CaptureState::Stopped) return;
  SessionEvent e;
  e.type = SessionEvent::Type::kAudioState;
  e.audioState = toAudioState(event.state);
  try {
    e.message = event.reason;
    e.source = event.source;
  } catch (...) {  // out of memory: still report the state
  }
  events_.post(std::move(e));
}

// ---- control thread ----

void AudioSession::controlLoop() noexcept {
  const int64_t start = MediaClock::nowNs();
  int64_t nextStats = start + kStatsIntervalNs;
  int64_t nextSenderReport = start + kSenderReportRetryNs;
  pollfd fds[2] = {{socket_->fd(), POLLIN, 0}, {wake_->fd(), POLLIN, 0}};
  while (!stopRequested_.load()) {
    const int64_t now = MediaClock::nowNs();
    const int64_t deadline = nextStats < nextSenderReport ? nextStats : nextSenderReport;
    const int64_t remaining = deadline > now ? deadline - now : 0;
    timespec timeout{static_cast<time_t>(remaining / kNsPerSec), static_cast<long>(remaining % kNsPerSec)};
    fds[0].revents = fds[1].revents = 0;
    if (ppoll(fds, 2, &timeout, nullptr) > 0) {
      if (fds[0].revents != 0) handleIncomingDatagrams();
      if (fds[1].revents != 0) {
        wake_->drain();
      }
    }
    if (stopRequested_.load()) break;
    const int64_t t = MediaClock::nowNs();
    if (senderReportNow_.exchange(false) || t >= nextSenderReport) {
      nextSenderReport = t + (maybeSendSenderReport(t) ? kSenderReportIntervalNs : kSenderReportRetryNs);
    }
    if (t >= nextStats) {
      emitStats(t);
      reportProblems(t);
      nextStats += kStatsIntervalNs;
      if (nextStats <= t) nextStats = t + kStatsIntervalNs;
    }
  }
}

void AudioSession::handleIncomingDatagrams() noexcept {
  for (int i = 0; i < 64; i++) {  // bounded
    bool truncated = false;
    const long n = socket_->recv(datagram_, sizeof datagram_, &truncated);
    if (n == -EAGAIN) return;
    if (n < 0) {
      // ICMP errors for earlier sends surface here on a connected socket.
      lastSendErrno_.store(static_cast<int>(-n), std::memory_order_relaxed);
      sendErrors_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    rtcpReceived_++;
    const size_t size = static_cast<size_t>(n);
    // Receiver reports, NACKs (Opus has no retransmission here), REMB, ...: valid RTCP is read
    // and ignored; anything else is counted and dropped.
    if (truncated || !rtcp::looksLikeRtcp(datagram_, size) ||
        rtcp::parseCompound(datagram_, size, config_.ssrc).malformed) {
      rtcpMalformed_++;
    }
  }
}

bool AudioSession::maybeSendSenderReport(int64_t nowNs) noexcept {
  const uint64_t packets = packets_.load(std::memory_order_relaxed);
  if (packets == 0) return false;
  if (nowNs - lastPacketNs_.load(std::memory_order_acquire) > kSenderActiveNs) return false;  // not sending now
  if (nowNs < timingSettlesAtNs_.load(std::memory_order_relaxed)) return false;  // capture time still settling
  uint32_t anchorRtp;
  int64_t anchorNs;
  {
    std::lock_guard<std::mutex> lock(anchorMutex_);
    anchorRtp = anchorRtp_;
    anchorNs = anchorCaptureNs_;
  }
  // The stream's own timeline (contiguous since its last anchor), extrapolated to now: the
  // SR says which RTP time was captured at this NTP instant.
  const int64_t elapsedNs = nowNs - anchorNs;
  const int64_t ticks = elapsedNs / kNsPerSec * MediaClock::kAudioClockRate +
                        elapsedNs % kNsPerSec * MediaClock::kAudioClockRate / kNsPerSec;
  rtcp::SenderReport sr;
  sr.ssrc = config_.ssrc;
  sr.ntpTimestamp = MediaClock::instance().ntpTimestamp(nowNs);
  sr.rtpTimestamp = anchorRtp + static_cast<uint32_t>(ticks);
  sr.packetCount = static_cast<uint32_t>(packets);
  sr.octetCount = payloadOctets_.load(std::memory_order_relaxed);
  uint8_t buffer[rtcp::kMaxCnameLength + 64];
  const size_t size = rtcp::buildSenderReport(sr, config_.cname, buffer, sizeof buffer);
  if (size == 0) return false;
  const int err = socket_->send(buffer, size);
  if (err != 0) {
    lastSendErrno_.store(err, std::memory_order_relaxed);
    sendErrors_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  senderReports_++;
  return true;
}

void AudioSession::emitStats(int64_t) noexcept {
  SessionEvent event;
  event.type = SessionEvent::Type::kAudioStats;
  AudioStats& s = event.audioStats;
  s.chunksCaptured = chunks_.load(std::memory_order_relaxed);
  s.packetsSent = packets_.load(std::memory_order_relaxed);
  s.bytesSent = bytes_.load(std::memory_order_relaxed);
  const uint64_t encodeNs = encodeNsTotal_.load(std::memory_order_relaxed);
  const uint64_t encoded = encoded_.load(std::memory_order_relaxed);
  if (encoded > windowEncoded_) {
    s.encodeMsAvg = static_cast<double>(encodeNs - windowEncodeNs_) / static_cast<double>(encoded - windowEncoded_) / 1e6;
  }
  windowEncodeNs_ = encodeNs;
  windowEncoded_ = encoded;
  s.encodeErrors = encodeErrors_.load(std::memory_order_relaxed);
  s.sendErrors = sendErrors_.load(std::memory_order_relaxed);
  s.senderReports = senderReports_;
  s.rtcpReceived = rtcpReceived_;
  s.rtcpMalformed = rtcpMalformed_;
  s.discontinuities = discontinuities_.load(std::memory_order_relaxed);
  events_.post(std::move(event));
}

void AudioSession::reportProblems(int64_t nowNs) noexcept {
  try {
    const uint64_t sendErrors = sendErrors_.load(std::memory_order_relaxed);
    if (sendErrors > warnedSendErrors_ && nowNs - lastSendWarnNs_ >= kWarnIntervalNs) {
      const int err = lastSendErrno_.load(std::memory_order_relaxed);
      const std::string advice = err == ECONNREFUSED
                                     ? "nothing is listening there: is the mediasoup PlainTransport up, and was "
                                       "setDestination() called after it was re-created?"
                                     : "audio packets are being dropped";
      events_.postLog(true, "audio RTP/RTCP send to " + destinationText() + " failed " +
                        std::to_string(sendErrors - warnedSendErrors_) + "x (" + errnoText(err) + "): " + advice);
      warnedSendErrors_ = sendErrors;
      lastSendWarnNs_ = nowNs;
    }
    const uint64_t encodeErrors = encodeErrors_.load(std::memory_order_relaxed);
    if (encodeErrors > warnedEncodeErrors_ && nowNs - lastEncodeWarnNs_ >= kWarnIntervalNs) {
      events_.postLog(true, "Opus encoding failed " + std::to_string(encodeErrors - warnedEncodeErrors_) + "x (" +
                        audio::OpusAudioEncoder::errorString(lastEncodeError_.load(std::memory_order_relaxed)) +
                        "); those 20 ms chunks were not sent");
      warnedEncodeErrors_ = encodeErrors;
      lastEncodeWarnNs_ = nowNs;
    }
  } catch (...) {  // out of memory while formatting a warning: skip it
  }
}

}  // namespace deskcast
