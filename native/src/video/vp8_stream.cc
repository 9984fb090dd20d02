#include "video/vp8_stream.h"

#include <random>

#include "common/errors.h"
#include "common/media_clock.h"
#include "rtp/rtcp.h"

namespace deskcast {
namespace {
constexpr int64_t kSenderReportIntervalNs = 1000000000LL;
}  // namespace

Vp8Stream::Vp8Stream(const Vp8StreamConfig& config, EventSink& events)
    : config_(config), events_(events), rtpTimestampOffset_(std::random_device{}()) {}

Vp8Stream::~Vp8Stream() { close(); }

void Vp8Stream::setEnabled(bool enabled) noexcept {
  if (enabled && !enabled_.load()) keyframeRequested_.store(true);  // first frame of a new viewer set
  enabled_.store(enabled && config_.available);
}

void Vp8Stream::requestKeyframe() noexcept { keyframeRequested_.store(true); }

void Vp8Stream::close() noexcept {
  encoder_.reset();
  packetizer_.reset();
}

void Vp8Stream::encodeFrame(const YuvPicture& picture, const Vp8Settings& settings, int64_t captureNs,
                            UdpSocket& socket) noexcept {
  if (!enabled_.load()) {
    if (encoder_) {
      close();
      events_.postLog(false, "VP8 encoder stopped (no viewer needs it)");
    }
    return;
  }
  const int64_t start = MediaClock::nowNs();
  try {
    const bool reopen = encoder_ && (encoder_->settings().width != settings.width ||
                                     encoder_->settings().height != settings.height ||
                                     encoder_->settings().fps != settings.fps ||
                                     encoder_->settings().keyframeIntervalSec != settings.keyframeIntervalSec);
    if (!encoder_ || reopen) {
      const bool first = !encoder_;
      encoder_.reset();
      encoder_ = std::make_unique<Vp8Encoder>(settings);  // allocates: on enable/resize only
      if (!packetizer_) {
        std::random_device random;
        packetizer_ = std::make_unique<Vp8RtpPacketizer>(config_.ssrc, config_.payloadType,
                                                          static_cast<uint16_t>(random()),
                                                          static_cast<uint16_t>(random()));
      }
      if (first) {
        events_.postLog(false, "VP8 encoder started (libvpx " + std::string(vpx_codec_version_str()) + ", " +
                                   std::to_string(settings.width) + "x" + std::to_string(settings.height) +
                                   "@" + std::to_string(settings.fps) + " fps, " +
                                   std::to_string(settings.bitrateKbps) + " kb/s) for viewers without H.264");
      }
      keyframeRequested_.store(true);
    } else if (encoder_->settings().bitrateKbps != settings.bitrateKbps) {
      encoder_->setBitrate(settings.bitrateKbps);
    }
    rtpTimestamp_ = MediaClock::instance().rtpTimestamp(captureNs, MediaClock::kVideoClockRate,
                                                        rtpTimestampOffset_);
    socket_ = &socket;
    encoder_->encode(picture, captureNs, keyframeRequested_.exchange(false), *this);
    socket_ = nullptr;
  } catch (const std::exception& e) {
    socket_ = nullptr;
    close();
    enabled_.store(false);
    events_.postLog(true, std::string("VP8 stream switched off (H.264 continues): ") + e.what());
    return;
  }
  if (samples_ < kSampleWindow) {
    encodeMs_[samples_++] = static_cast<float>(static_cast<double>(MediaClock::nowNs() - start) / 1e6);
  }
}

void Vp8Stream::onVp8Frame(const uint8_t* data, size_t size, bool keyframe, bool droppable) {
  if (packetizer_->packetize(data, size, rtpTimestamp_, droppable, *this) == 0) return;
  framesSent_++;
  if (keyframe) keyframesSent_++;
}

void Vp8Stream::onRtpPacket(const uint8_t* packet, size_t size, size_t payloadSize) {
  if (socket_->send(packet, size) != 0) {
    sendErrors_++;  // the H.264 stream on the same socket reports send errors
    return;
  }
  bytesSent_ += size;
  rtpPacketCount_++;
  rtpOctetCount_ += static_cast<uint32_t>(payloadSize);
}

void Vp8Stream::onRtcp(const uint8_t* data, size_t size) noexcept {
  if (!config_.available) return;
  rtcp::FeedbackSummary fb = rtcp::parseCompound(data, size, config_.ssrc);
  if (fb.malformed) return;
  if (fb.pli > 0) {
    pliReceived_ += fb.pli;
    keyframeRequested_.store(true);
  }
  if (fb.fir > 0) {
    firReceived_ += fb.fir;
    if (fb.lastFirSeq != lastFirSeq_) keyframeRequested_.store(true);  // RFC 5104: repeats are retransmissions
    lastFirSeq_ = fb.lastFirSeq;
  }
}

void Vp8Stream::maybeSendSenderReport(int64_t nowNs, bool urgent, UdpSocket& socket) noexcept {
  if (!encoder_ || rtpPacketCount_ == 0) return;
  if (!urgent && nowNs - lastSenderReportNs_ < kSenderReportIntervalNs) return;
  lastSenderReportNs_ = nowNs;
  uint8_t buffer[rtcp::kMaxCnameLength + 64];
  const size_t size = rtcp::buildSenderReportAt(nowNs, MediaClock::kVideoClockRate, rtpTimestampOffset_, config_.ssrc,
                                                rtpPacketCount_, rtpOctetCount_, config_.cname, buffer, sizeof buffer);
  if (size != 0 && socket.send(buffer, size) != 0) sendErrors_++;
}

void Vp8Stream::fillStats(VideoStats& s) noexcept {
  s.vp8Active = encoder_ != nullptr;
  s.vp8FramesSent = framesSent_;
  s.vp8KeyframesSent = keyframesSent_;
  s.vp8BytesSent = bytesSent_;
  s.vp8PliReceived = pliReceived_ + firReceived_;
  double sum = 0;
  for (size_t i = 0; i < samples_; i++) sum += encodeMs_[i];
  s.vp8EncodeMsAvg = samples_ ? sum / static_cast<double>(samples_) : 0;
  samples_ = 0;
}

}  // namespace deskcast
