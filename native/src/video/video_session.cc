#include "video/video_session.h"

#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>

#include "common/errors.h"
#include "common/media_clock.h"
#include "rtp/rtcp.h"

namespace deskcast {
namespace {

constexpr int64_t kNsPerSec = 1000000000LL;
constexpr int64_t kSenderReportIntervalNs = kNsPerSec;
constexpr int64_t kStatsIntervalNs = kNsPerSec;
constexpr int64_t kSendWarnIntervalNs = 5 * kNsPerSec;
constexpr size_t kMaxDatagram = 2048;

uint32_t bit(KeyframeReason r) { return 1u << static_cast<unsigned>(r); }

// The reason reported when several requests coincide.
KeyframeReason strongestReason(uint32_t mask) {
  for (KeyframeReason r : {KeyframeReason::kStart, KeyframeReason::kReconfigure,
                           KeyframeReason::kFir, KeyframeReason::kPli, KeyframeReason::kRequest}) {
    if (mask & bit(r)) return r;
  }
  return KeyframeReason::kRequest;
}

double msBetween(int64_t a, int64_t b) { return static_cast<double>(b - a) / 1e6; }

double median(const float* samples, size_t count) {
  if (count == 0) return 0;
  float copy[256];
  std::copy(samples, samples + count, copy);
  std::nth_element(copy, copy + count / 2, copy + count);
  return copy[count / 2];
}

double average(const float* samples, size_t count) {
  if (count == 0) return 0;
  double sum = 0;
  for (size_t i = 0; i < count; i++) sum += samples[i];
  return sum / static_cast<double>(count);
}

// Output geometry: requested size (even), or the screen's, or one side derived from the
// screen's aspect ratio.
void outputSize(int screenW, int screenH, int reqW, int reqH, int* outW, int* outH) {
  int w = reqW, h = reqH;
  if (w <= 0 && h <= 0) {
    w = screenW;
    h = screenH;
  } else if (h <= 0) {
    h = static_cast<int>(std::lround(static_cast<double>(w) * screenH / screenW));
  } else if (w <= 0) {
    w = static_cast<int>(std::lround(static_cast<double>(h) * screenW / screenH));
  }
  *outW = std::max(2, w & ~1);
  *outH = std::max(2, h & ~1);
}


}  // namespace

const char* const VideoSession::kStoppedWhileStarting =
    "this VideoSession was stopped before start() finished; create a new VideoSession";

VideoSession::VideoSession(const VideoSessionConfig& config, EventSink& events)
    : slot_(std::make_unique<ProcessSlot<VideoSession>>(
          "a VideoSession is already active in this process (one capture session per process): "
          "reconfigure() the existing one, or stop() it before creating another")),
      events_(events),
      config_(config),
      rtpTimestampOffset_(std::random_device{}()),
      source_(createScreenSource(config.screen)),
      vp8_(config.vp8, events),
      wake_(std::make_unique<WakeEvent>()),
      fps_(config.fps),
      bitrateKbps_(config.bitrateKbps),
      keyframeIntervalSec_(config.keyframeIntervalSec),
      requestedWidth_(config.width),
      requestedHeight_(config.height),
      frameExtensions_(config.rtpExtensions),
      nals_(64),
      outNals_(66),
      datagram_(kMaxDatagram) {
  (void)MediaClock::instance();  // pin the epoch before the first capture
  cachedSps_.reserve(256);
  cachedPps_.reserve(256);
}

VideoSession::~VideoSession() { stop(); }

EncoderSettings VideoSession::encoderSettingsFor(int width, int height) const {
  EncoderSettings s;
  s.width = width;
  s.height = height;
  s.fps = fps_;
  s.bitrateKbps = bitrateKbps_;
  s.keyframeIntervalSec = keyframeIntervalSec_;
  return s;
}

void VideoSession::throwIfCancelled() const {
  if (stopRequested_.load()) throw DeskcastError(errc::kSessionState, kStoppedWhileStarting);
}

// The blocking part of start(): display server, encoder probing, name resolution.
void VideoSession::openPipeline() {
  source_->open();
  throwIfCancelled();
  int outW, outH;
  outputSize(source_->width(), source_->height(), requestedWidth_, requestedHeight_, &outW, &outH);
  encoder_ = std::make_unique<H264Encoder>(config_.encoder, encoderSettingsFor(outW, outH));
  converter_.configure(source_->width(), source_->height(), outW, outH, encoder_->inputFormat());
  throwIfCancelled();

  SocketAddress destination = SocketAddress::resolve(config_.destinationHost, config_.destinationPort);
  {
    std::lock_guard<std::mutex> lock(controlMutex_);
    if (newDestination_) destination = *newDestination_;  // setDestination() while opening
    socket_ = std::make_unique<UdpSocket>(destination);
    destinationText_ = destination.toString();
  }
  localPort_.store(socket_->localPort());

  std::random_device random;
  packetizer_ = std::make_unique<H264RtpPacketizer>(
      config_.ssrc, config_.payloadType, static_cast<uint16_t>(random()), kDefaultMaxRtpPayload);
  throwIfCancelled();
}

VideoStartInfo VideoSession::start() {
  std::lock_guard<std::mutex> lifecycle(lifecycleMutex_);
  if (stopped_.load()) {
    throw DeskcastError(errc::kSessionState,
                        "this VideoSession was stopped; create a new VideoSession");
  }
  if (started_) throw DeskcastError(errc::kSessionState, "VideoSession.start() was already called");
  started_ = true;
  try {
    openPipeline();
    if (hasPending_.load()) applyPendingChanges();  // reconfigure() before or during start()
  } catch (...) {
    releaseHandles();  // the display, encoder and socket go now, not at stop()
    throw;
  }

  VideoStartInfo info;
  info.encoder = encoder_->name();
  info.backend = source_->backend();
  info.width = encoder_->settings().width;
  info.height = encoder_->settings().height;
  info.skipped = encoder_->skipped();

  keyframeRequests_.fetch_or(bit(KeyframeReason::kStart));
  std::string opened = "capturing " + source_->displayName() + " (" +
                       std::to_string(source_->width()) + "x" +
                       std::to_string(source_->height()) + ") with " + encoder_->name() +
                       " at " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                       "@" + std::to_string(fps_) + " fps, " + std::to_string(bitrateKbps_) +
                       " kb/s";
  if (!encoder_->openInfo().empty()) opened += " [" + encoder_->openInfo() + "]";
  if (!source_->openInfo().empty()) opened += " [" + source_->openInfo() + "]";
  events_.postLog(false, std::move(opened));
  for (const auto& s : info.skipped) events_.postLog(false, "encoder " + s.encoder + " skipped: " + s.reason);
  if (!converter_.scaling() && source_->changeDriven()) {
    events_.postLog(false, "change-driven capture: frames are grabbed when the screen changes (at most " +
                               std::to_string(fps_) + " fps), nothing while it is still");
  }
  if (!source_->cursorSupported()) {
    events_.postLog(true, "the cursor is not drawn: the screen source of " + source_->displayName() +
                              " cannot (on X11: the XFixes extension is missing)");
  }

  thread_ = std::thread(&VideoSession::run, this);
  return info;
}

void VideoSession::cancelStart() noexcept {
  stopRequested_.store(true);
  wake_->signal();
}

void VideoSession::reconfigure(const VideoReconfigure& changes) {
  if (stopped_.load()) throw DeskcastError(errc::kSessionState, "this VideoSession was stopped");
  if (failed_.load()) {
    throw DeskcastError(errc::kSessionState,
                        "this VideoSession failed (see its 'error' event); stop() it and create "
                        "a new one");
  }
  {
    std::lock_guard<std::mutex> lock(controlMutex_);
    if (changes.fps) pending_.fps = changes.fps;
    if (changes.bitrateKbps) pending_.bitrateKbps = changes.bitrateKbps;
    if (changes.width) pending_.width = changes.width;
    if (changes.height) pending_.height = changes.height;
    if (changes.keyframeIntervalSec) pending_.keyframeIntervalSec = changes.keyframeIntervalSec;
  }
  hasPending_.store(true);
  if (wake_) wake_->signal();
}

void VideoSession::setDestination(const std::string& host, uint16_t port) {
  if (stopped_.load()) throw DeskcastError(errc::kSessionState, "this VideoSession was stopped");
  SocketAddress destination = SocketAddress::resolve(host, port);
  {
    std::lock_guard<std::mutex> lock(controlMutex_);
    if (socket_) {
      socket_->connect(destination);  // safe against concurrent send()/recv() on the thread
    } else {
      newDestination_ = destination;  // start() has not opened the socket yet
    }
    destinationText_ = destination.toString();
  }
  // A new PlainTransport knows nothing yet: give it a keyframe and a sender report at once.
  keyframeRequests_.fetch_or(bit(KeyframeReason::kRequest));
  vp8_.requestKeyframe();
  senderReportNow_.store(true);
  wake_->signal();
}

void VideoSession::requestKeyframe() noexcept {
  if (stopped_.load()) return;
  keyframeRequests_.fetch_or(bit(KeyframeReason::kRequest));
  vp8_.requestKeyframe();
  wake_->signal();
}

void VideoSession::setVp8Enabled(bool enabled) {
  if (!vp8_.available()) {
    throw DeskcastError(errc::kSessionState,
                        "this VideoSession has no VP8 stream: create it with vp8Ssrc and vp8PayloadType");
  }
  if (stopped_.load()) throw DeskcastError(errc::kSessionState, "this VideoSession was stopped");
  vp8_.setEnabled(enabled);
  if (wake_) wake_->signal();
}

void VideoSession::stop() noexcept {
  stopRequested_.store(true);
  if (wake_) wake_->signal();
  std::lock_guard<std::mutex> lifecycle(lifecycleMutex_);  // a start() in progress finishes
  if (stopped_.load()) return;
  stopped_.store(true);
  if (wake_) wake_->signal();
  if (thread_.joinable()) thread_.join();
  releaseHandles();
  wake_.reset();
  slot_.reset();  // a new session may be created now
}

void VideoSession::releaseHandles() noexcept {
  packetizer_.reset();
  encoder_.reset();
  vp8_.close();
  source_.reset();
  std::lock_guard<std::mutex> lock(controlMutex_);
  socket_.reset();
}

void VideoSession::postKeyframe(KeyframeReason reason) noexcept {
  SessionEvent event;
  event.type = SessionEvent::Type::kKeyframe;
  event.reason = reason;
  events_.post(std::move(event));
}

void VideoSession::run() noexcept {
  try {
    pipelineLoop();
  } catch (const DeskcastError& e) {
    failed_.store(true);
    SessionEvent event;
    event.type = SessionEvent::Type::kError;
    event.code = e.code();
    event.message = e.what();
    events_.post(std::move(event));
  } catch (const std::exception& e) {
    failed_.store(true);
    SessionEvent event;
    event.type = SessionEvent::Type::kError;
    event.code = errc::kInternal;
    event.message = std::string("video pipeline failed: ") + e.what();
    events_.post(std::move(event));
  }
}

void VideoSession::pipelineLoop() {
  const int64_t startNs = MediaClock::nowNs();
  nextFrameNs_ = startNs;
  lastFrameNs_ = startNs - frameIntervalNs();
  windowStartNs_ = startNs;
  lastSenderReportNs_ = startNs - kSenderReportIntervalNs;
  const bool changeDriven = source_->changeDriven();
  if (!changeDriven && !source_->changeTrackingUnavailable().empty()) {
    events_.postLog(true, source_->changeTrackingUnavailable());
  }

  for (;;) {
    // Sleep until a frame is due; RTCP feedback, control calls, screen changes and stop wake us.
    int64_t now;
    for (;;) {
      if (stopRequested_.load()) return;
      if (hasPending_.load()) applyPendingChanges();
      now = MediaClock::nowNs();
      if (keyframeRequests_.load() != 0 || vp8_.wantsFrame()) break;
      int64_t due;
      if (changeDriven) {
        // A change is grabbed when it happens, unless that would exceed fps.
        due = frameNeeded_ ? lastFrameNs_ + frameIntervalNs() : tailDueNs_;
      } else {
        due = frameNeeded_ ? now : nextFrameNs_;
      }
      if (now >= due) break;
      // Idle (a still screen): SRs and stats go on without frames.
      maybeSendSenderReport(now);
      vp8_.maybeSendSenderReport(now, false, *socket_);
      maybeEmitStats(now);
      waitUntil(std::min(due, nextHousekeepingNs()));
    }

    const int64_t frameStart = now;
    const uint32_t keyframeMask = keyframeRequests_.exchange(0);
    const bool tail = changeDriven && !frameNeeded_ && keyframeMask == 0 && now >= tailDueNs_;
    frameNeeded_ = false;
    const bool sent = processFrame(frameStart, keyframeMask, tail);
    if (changeDriven) {
      const uint32_t askedByReceiver = bit(KeyframeReason::kPli) | bit(KeyframeReason::kFir) | bit(KeyframeReason::kRequest);
      planTail(frameStart, sent, tail, (keyframeMask & askedByReceiver) != 0);
    }
    lastFrameNs_ = frameStart;
    // News that arrived while grabbing sits in Xlib's queue, where poll() cannot see it.
    if (changeDriven && source_->onWaitFdReadable()) frameNeeded_ = true;
    lastSourcePollNs_ = MediaClock::nowNs();

    const int64_t done = MediaClock::nowNs();
    maybeSendSenderReport(done);
    vp8_.maybeSendSenderReport(done, false, *socket_);
    maybeEmitStats(done);

    // Early frames (keyframe requests, the source's) restart the cadence; never burst to catch up.
    const int64_t interval = frameIntervalNs();
    nextFrameNs_ = frameStart < nextFrameNs_ ? frameStart + interval : nextFrameNs_ + interval;
    if (nextFrameNs_ < done) nextFrameNs_ = done;
  }
}

void VideoSession::planTail(int64_t frameStartNs, bool sent, bool wasTail, bool receiverAskedKeyframe) noexcept {
  if (wasTail) {
    tailSent_++;
  } else if (sent) {
    tailBaseNs_ = frameStartNs;
    tailOffsetsNs_ = receiverAskedKeyframe ? kTailAfterKeyframeNs : kTailAfterChangeNs;
    tailCount_ = receiverAskedKeyframe ? std::size(kTailAfterKeyframeNs) : std::size(kTailAfterChangeNs);
    tailSent_ = 0;
  } else {
    return;  // nothing went out: the plan stands
  }
  tailDueNs_ = tailSent_ < tailCount_ ? tailBaseNs_ + tailOffsetsNs_[tailSent_] : INT64_MAX;
}

int64_t VideoSession::nextHousekeepingNs() const noexcept {
  int64_t sr = rtpPacketCount_ == 0 ? INT64_MAX : lastSenderReportNs_ + kSenderReportIntervalNs;
  return std::min(sr, windowStartNs_ + kStatsIntervalNs);
}

void VideoSession::waitUntil(int64_t deadlineNs) {
  const int64_t poll = source_->pollIntervalNs();
  if (poll > 0) {
    // Sources with news that raises no event are asked at least every `poll`.
    int64_t now = MediaClock::nowNs();
    if (now - lastSourcePollNs_ >= poll) {
      lastSourcePollNs_ = now;
      if (source_->onWaitFdReadable()) frameNeeded_ = true;
      return;
    }
    deadlineNs = std::min(deadlineNs, lastSourcePollNs_ + poll);
  }
  int64_t remaining = deadlineNs - MediaClock::nowNs();
  if (remaining <= 0) return;
  const int sourceFd = source_->waitFd();
  pollfd fds[3] = {{socket_->fd(), POLLIN, 0}, {wake_->fd(), POLLIN, 0}, {sourceFd, POLLIN, 0}};
  timespec timeout{static_cast<time_t>(remaining / kNsPerSec),
                   static_cast<long>(remaining % kNsPerSec)};
  if (senderReportNow_.load() && rtpPacketCount_ != 0) timeout = timespec{0, 0};  // setDestination(): an SR at once
  int n = ppoll(fds, sourceFd >= 0 ? 3 : 2, &timeout, nullptr);
  if (n <= 0) return;  // timeout or EINTR
  if (fds[0].revents != 0) handleIncomingDatagrams();
  if (fds[1].revents != 0) {
    wake_->drain();
  }
  if (sourceFd >= 0 && fds[2].revents != 0) {
    if (source_->onWaitFdReadable()) frameNeeded_ = true;
    lastSourcePollNs_ = MediaClock::nowNs();
  }
}

void VideoSession::handleIncomingDatagrams() {
  for (int i = 0; i < 64; i++) {  // bounded: never starve the frame clock
    bool truncated = false;
    long n = socket_->recv(datagram_.data(), datagram_.size(), &truncated);
    if (n == -EAGAIN) return;
    if (n < 0) {
      // ICMP errors for our earlier sends surface here on a connected socket.
      noteSendError(static_cast<int>(-n));
      continue;
    }
    const uint8_t* data = datagram_.data();
    size_t size = static_cast<size_t>(n);
    if (truncated || !rtcp::looksLikeRtcp(data, size)) {
      totals_.rtcpMalformed++;
      continue;
    }
    rtcp::FeedbackSummary fb = rtcp::parseCompound(data, size, config_.ssrc);
    if (fb.malformed) {
      totals_.rtcpMalformed++;
      continue;
    }
    vp8_.onRtcp(data, size);
    if (fb.pli > 0) {
      totals_.pliReceived += fb.pli;
      keyframeRequests_.fetch_or(bit(KeyframeReason::kPli));
    }
    if (fb.fir > 0) {
      totals_.firReceived += fb.fir;
      // RFC 5104 §4.3.1: a repeated sequence number is a retransmission, not a new request.
      if (fb.lastFirSeq != lastFirSeq_) keyframeRequests_.fetch_or(bit(KeyframeReason::kFir));
      lastFirSeq_ = fb.lastFirSeq;
    }
  }
}

void VideoSession::applyPendingChanges() {
  VideoReconfigure changes;
  {
    std::lock_guard<std::mutex> lock(controlMutex_);
    changes = pending_;
    pending_ = VideoReconfigure{};
    hasPending_.store(false);
  }
  const int oldFps = fps_;
  const int oldBitrate = bitrateKbps_;
  const double oldKeyint = keyframeIntervalSec_;
  const int oldReqW = requestedWidth_, oldReqH = requestedHeight_;

  if (changes.fps) fps_ = *changes.fps;
  if (changes.bitrateKbps) bitrateKbps_ = *changes.bitrateKbps;
  if (changes.keyframeIntervalSec) keyframeIntervalSec_ = *changes.keyframeIntervalSec;
  if (changes.width) requestedWidth_ = *changes.width;
  if (changes.height) requestedHeight_ = *changes.height;

  int outW, outH;
  outputSize(source_->width(), source_->height(), requestedWidth_, requestedHeight_, &outW, &outH);
  const EncoderSettings& cur = encoder_->settings();
  bool needReopen = fps_ != oldFps || keyframeIntervalSec_ != oldKeyint || outW != cur.width ||
                    outH != cur.height;
  if (!needReopen && bitrateKbps_ == oldBitrate) return;

  try {
    if (needReopen) {
      encoder_->reopen(encoderSettingsFor(outW, outH));
      converter_.configure(source_->width(), source_->height(), outW, outH,
                           encoder_->inputFormat());
      keyframeRequests_.fetch_or(bit(KeyframeReason::kReconfigure));
    } else if (encoder_->setBitrate(bitrateKbps_)) {
      keyframeRequests_.fetch_or(bit(KeyframeReason::kReconfigure));
    }
  } catch (const DeskcastError& e) {
    // Roll back to the last working configuration; only a failed rollback is fatal.
    events_.postLog(true, std::string("reconfigure rejected, keeping the previous settings: ") + e.what());
    fps_ = oldFps;
    bitrateKbps_ = oldBitrate;
    keyframeIntervalSec_ = oldKeyint;
    requestedWidth_ = oldReqW;
    requestedHeight_ = oldReqH;
    outputSize(source_->width(), source_->height(), requestedWidth_, requestedHeight_, &outW, &outH);
    encoder_->reopen(encoderSettingsFor(outW, outH));
    converter_.configure(source_->width(), source_->height(), outW, outH, encoder_->inputFormat());
    keyframeRequests_.fetch_or(bit(KeyframeReason::kReconfigure));
    return;
  }
  // A faster frame rate takes effect now, not after the old (longer) interval.
  int64_t soonest = MediaClock::nowNs() + frameIntervalNs();
  if (nextFrameNs_ > soonest) nextFrameNs_ = soonest;
  events_.postLog(false, "reconfigured: " + std::to_string(outW) + "x" + std::to_string(outH) + "@" +
                     std::to_string(fps_) + " fps, " + std::to_string(bitrateKbps_) +
                     " kb/s, keyframe every " + std::to_string(keyframeIntervalSec_) + " s" +
                     (needReopen ? " (encoder re-opened)" : " (in place)"));
}

void VideoSession::applyOutputGeometry(bool screenChanged) {
  int outW, outH;
  outputSize(source_->width(), source_->height(), requestedWidth_, requestedHeight_, &outW, &outH);
  const EncoderSettings& cur = encoder_->settings();
  if (outW != cur.width || outH != cur.height) {
    encoder_->reopen(encoderSettingsFor(outW, outH));
    keyframeRequests_.fetch_or(bit(KeyframeReason::kReconfigure));
  }
  converter_.configure(source_->width(), source_->height(), outW, outH, encoder_->inputFormat());
  if (screenChanged) {
    events_.postLog(false, "screen size changed to " + std::to_string(source_->width()) + "x" +
                       std::to_string(source_->height()) + "; encoding " + std::to_string(outW) +
                       "x" + std::to_string(outH));
  }
}

bool VideoSession::processFrame(int64_t frameStartNs, uint32_t keyframeMask, bool repeat) {
  ScreenSource::GrabResult grabbed = source_->grab(&frame_);
  switch (grabbed) {
    case ScreenSource::GrabResult::kConnectionLost:
      throw DeskcastError(errc::kDisplayLost,
                          source_->displayName().rfind("wayland:", 0) == 0
                              ? "lost the connection to Wayland display '" + source_->displayName() +
                                    "' (" + source_->lastError() +
                                    "); stop() this session and create a new one when the compositor is back"
                              : "lost the connection to X display '" + source_->displayName() +
                                    "' (did the X server exit?); stop() this session and create a new "
                                    "one when the display is back");
    case ScreenSource::GrabResult::kFailed:
      if (++consecutiveCaptureFailures_ == 1) events_.postLog(true, source_->lastError());
      if (consecutiveCaptureFailures_ >= static_cast<unsigned>(3 * fps_) + 3) {
        throw DeskcastError(errc::kCaptureFailed,
                            "screen capture keeps failing on '" + source_->displayName() +
                                "': " + source_->lastError());
      }
      deferredKeyframeMask_ |= keyframeMask;  // honoured by the next (regularly paced) frame
      return false;
    case ScreenSource::GrabResult::kResized:
      applyOutputGeometry(true);
      keyframeMask |= keyframeRequests_.exchange(0);
      break;
    case ScreenSource::GrabResult::kOk:
      break;
  }
  consecutiveCaptureFailures_ = 0;
  totals_.framesCaptured++;
  windowFrames_++;
  const int64_t captured = MediaClock::nowNs();

  // Only what changed is converted into the encoder's persistent picture.
  AVFrame* picture = encoder_->inputFrame();
  const bool changed = converter_.update(frame_, picture);
  const int64_t converted = MediaClock::nowNs();
  // e.g. damage outside the picture: nothing to send, unless VP8 alone needs a frame.
  const bool h264Frame = changed || keyframeMask != 0 || repeat;
  if (!h264Frame && !vp8_.wantsFrame()) return false;

  // A compositor's presentation time says when these pixels were on screen: closer to the truth
  // than the grab, when it is recent and moves the RTP clock forward (a still screen re-delivers
  // an old frame; RTP time must never repeat or step back).
  uint32_t rtpTimestamp = MediaClock::instance().rtpTimestamp(
      frameStartNs, MediaClock::kVideoClockRate, rtpTimestampOffset_);
  if (frame_.presentedNs > 0 && frame_.presentedNs <= frameStartNs &&
      frameStartNs - frame_.presentedNs < 100'000'000) {
    const uint32_t presented = MediaClock::instance().rtpTimestamp(
        frame_.presentedNs, MediaClock::kVideoClockRate, rtpTimestampOffset_);
    if (totals_.framesCaptured == 1 || static_cast<int32_t>(presented - currentRtpTimestamp_) > 0) {
      rtpTimestamp = presented;
    }
  }
  currentRtpTimestamp_ = rtpTimestamp;
  frameExtensions_.captureNtp = MediaClock::instance().ntpTimestamp(frameStartNs);
  if (keyframeMask != 0) forcedKeyframeReason_ = strongestReason(keyframeMask);
  sendNs_ = 0;
  if (h264Frame) encoder_->encode(keyframeMask != 0, *this);  // → onEncodedPacket → onRtpPacket
  const int64_t encoded = MediaClock::nowNs();
  // VP8 (when a viewer needs it) encodes the same picture after H.264 has gone out.
  const EncoderSettings& es = encoder_->settings();
  vp8_.encodeFrame(YuvPicture{picture->data[0], picture->data[1], picture->data[2], picture->linesize[0],
                              picture->linesize[1], picture->linesize[2], picture->format == AV_PIX_FMT_NV12},
                   Vp8Settings{es.width, es.height, fps_, bitrateKbps_, keyframeIntervalSec_}, frameStartNs,
                   *socket_);

  if (windowSamples_ < kSampleWindow) {
    captureMs_[windowSamples_] = static_cast<float>(msBetween(frameStartNs, captured));
    convertMs_[windowSamples_] = static_cast<float>(msBetween(captured, converted));
    encodeMs_[windowSamples_] = static_cast<float>(msBetween(converted, encoded - sendNs_));
    sendMs_[windowSamples_] = static_cast<float>(static_cast<double>(sendNs_) / 1e6);
    windowSamples_++;
  }
  if (frame_.changedAtNs > 0 && changeSamples_ < kSampleWindow) {
    changeToGrabMs_[changeSamples_++] =
        static_cast<float>(msBetween(std::min(frame_.changedAtNs, frameStartNs), frameStartNs));
  }
  return h264Frame;
}

void VideoSession::onEncodedPacket(const uint8_t* data, size_t size, bool /*keyframe*/) {
  totals_.framesEncoded++;
  size_t count = h264::splitAnnexB(data, size, nals_.data(), nals_.size());
  if (count > nals_.size()) {  // unusually many slices: grow once, keep the capacity
    nals_.resize(count);
    outNals_.resize(count + 2);
    count = h264::splitAnnexB(data, size, nals_.data(), nals_.size());
  }

  // Keep what a WebRTC receiver needs; make sure SPS and PPS precede every IDR.
  size_t out = 0;
  bool haveSps = false, havePps = false, isKeyframe = false;
  for (size_t i = 0; i < count; i++) {
    const h264::NalUnit& nal = nals_[i];
    switch (nal.type()) {
      case h264::kNalSei:
      case h264::kNalAud:
      case h264::kNalFiller:
      case h264::kNalEndOfSequence:
      case h264::kNalEndOfStream:
        continue;
      case h264::kNalSps:
        cachedSps_.assign(nal.data, nal.data + nal.size);
        haveSps = true;
        break;
      case h264::kNalPps:
        cachedPps_.assign(nal.data, nal.data + nal.size);
        havePps = true;
        break;
      case h264::kNalIdr:
        if (!isKeyframe && (!haveSps || !havePps) && !cachedSps_.empty() && !cachedPps_.empty()) {
          if (!haveSps) outNals_[out++] = h264::NalUnit{cachedSps_.data(), cachedSps_.size()};
          if (!havePps) outNals_[out++] = h264::NalUnit{cachedPps_.data(), cachedPps_.size()};
          haveSps = havePps = true;
        }
        isKeyframe = true;
        break;
      default:
        break;
    }
    outNals_[out++] = nal;
  }
  if (out == 0) return;

  frameSendFailed_ = false;
  const int64_t sendStart = MediaClock::nowNs();
  packetizer_->packetize(outNals_.data(), out, currentRtpTimestamp_, *this, &frameExtensions_);
  sendNs_ += MediaClock::nowNs() - sendStart;
  if (!frameSendFailed_) totals_.framesSent++;
  if (isKeyframe) {
    totals_.keyframesSent++;
    postKeyframe(forcedKeyframeReason_.value_or(KeyframeReason::kInterval));
    forcedKeyframeReason_.reset();
  }
}

void VideoSession::onRtpPacket(const uint8_t* packet, size_t size, size_t payloadSize) {
  int err = socket_->send(packet, size);
  if (err != 0) {
    frameSendFailed_ = true;
    noteSendError(err);
    return;
  }
  totals_.packetsSent++;
  totals_.bytesSent += size;
  rtpPacketCount_++;
  rtpOctetCount_ += static_cast<uint32_t>(payloadSize);
}

void VideoSession::noteSendError(int err) {
  sendErrors_++;
  sendErrorsSinceWarn_++;
  lastSendErrno_ = err;
  int64_t now = MediaClock::nowNs();
  if (now - lastSendWarnNs_ < kSendWarnIntervalNs) return;
  lastSendWarnNs_ = now;
  std::string destination;
  {
    std::lock_guard<std::mutex> lock(controlMutex_);
    destination = destinationText_;
  }
  std::string advice = err == ECONNREFUSED
                           ? "nothing is listening there: is the mediasoup PlainTransport up, and "
                             "was setDestination() called after it was re-created?"
                           : "packets are being dropped";
  events_.postLog(true, "RTP/RTCP send to " + destination + " failed " +
                    std::to_string(sendErrorsSinceWarn_) + "x (" + errnoText(err) + "): " + advice);
  sendErrorsSinceWarn_ = 0;
}

void VideoSession::maybeSendSenderReport(int64_t nowNs) {
  if (rtpPacketCount_ == 0) return;
  bool urgent = senderReportNow_.exchange(false);
  if (!urgent && nowNs - lastSenderReportNs_ < kSenderReportIntervalNs) return;
  lastSenderReportNs_ = nowNs;
  uint8_t buffer[rtcp::kMaxCnameLength + 64];
  const size_t size = rtcp::buildSenderReportAt(nowNs, MediaClock::kVideoClockRate, rtpTimestampOffset_, config_.ssrc,
                                                rtpPacketCount_, rtpOctetCount_, config_.cname, buffer, sizeof buffer);
  if (size == 0) return;
  int err = socket_->send(buffer, size);
  if (err != 0) noteSendError(err);
}

void VideoSession::maybeEmitStats(int64_t nowNs) {
  int64_t elapsed = nowNs - windowStartNs_;
  if (elapsed < kStatsIntervalNs) return;
  SessionEvent event;
  event.type = SessionEvent::Type::kStats;
  VideoStats& s = event.stats;
  s = totals_;
  s.captureFps = static_cast<double>(windowFrames_) * 1e9 / static_cast<double>(elapsed);
  s.captureMsAvg = average(captureMs_, windowSamples_);
  s.convertMsAvg = average(convertMs_, windowSamples_);
  s.encodeMsAvg = average(encodeMs_, windowSamples_);
  s.captureMsP50 = median(captureMs_, windowSamples_);
  s.convertMsP50 = median(convertMs_, windowSamples_);
  s.encodeMsP50 = median(encodeMs_, windowSamples_);
  s.changeToGrabMs.assign(changeToGrabMs_, changeToGrabMs_ + changeSamples_);
  s.grabMs.assign(captureMs_, captureMs_ + windowSamples_);
  s.convertMs.assign(convertMs_, convertMs_ + windowSamples_);
  s.encodeMs.assign(encodeMs_, encodeMs_ + windowSamples_);
  s.sendMs.assign(sendMs_, sendMs_ + windowSamples_);
  s.width = encoder_->settings().width;
  s.height = encoder_->settings().height;
  s.encoder = encoder_->name();
  vp8_.fillStats(s);
  events_.post(std::move(event));
  windowStartNs_ = nowNs;
  windowFrames_ = 0;
  windowSamples_ = 0;
  changeSamples_ = 0;
}

}  // namespace deskcast
