#include "audio/opus_encoder.h"

#include <opus/opus.h>

#include <cstdio>

namespace deskcast::audio {

namespace {

bool setError(std::string* error, const char* what, int code) {
  if (error) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "Opus encoder: %s (%s).", what, opus_strerror(code));
    *error = buf;
  }
  return false;
}

}  // namespace

std::unique_ptr<OpusAudioEncoder> OpusAudioEncoder::create(const OpusAudioEncoderOptions& options, std::string* error) {
  if (options.bitrate < 6000 || options.bitrate > 510000) {
    if (error) *error = "Opus encoder: bitrate must be between 6000 and 510000 b/s (128000 is a good default for stereo).";
    return nullptr;
  }
  if (options.packetLossPercent < 0 || options.packetLossPercent > 100) {
    if (error) *error = "Opus encoder: packetLossPercent must be between 0 and 100.";
    return nullptr;
  }
  if (options.complexity < 0 || options.complexity > 10) {
    if (error) *error = "Opus encoder: complexity must be between 0 and 10.";
    return nullptr;
  }
  int err = OPUS_OK;
  ::OpusEncoder* raw = opus_encoder_create(kSampleRate, kChannels, OPUS_APPLICATION_AUDIO, &err);
  if (!raw || err != OPUS_OK) {
    setError(error, "cannot create a 48 kHz stereo encoder", err);
    return nullptr;
  }
  std::unique_ptr<OpusAudioEncoder> encoder(new OpusAudioEncoder(raw, options.bitrate));
  if ((err = opus_encoder_ctl(raw, OPUS_SET_BITRATE(options.bitrate))) != OPUS_OK) {
    setError(error, "cannot set the bitrate", err);
    return nullptr;
  }
  if ((err = opus_encoder_ctl(raw, OPUS_SET_INBAND_FEC(options.inbandFec ? 1 : 0))) != OPUS_OK ||
      (err = opus_encoder_ctl(raw, OPUS_SET_PACKET_LOSS_PERC(options.packetLossPercent))) != OPUS_OK) {
    setError(error, "cannot enable in-band FEC", err);
    return nullptr;
  }
  if ((err = opus_encoder_ctl(raw, OPUS_SET_COMPLEXITY(options.complexity))) != OPUS_OK) {
    setError(error, "cannot set the complexity", err);
    return nullptr;
  }
  return encoder;
}

OpusAudioEncoder::~OpusAudioEncoder() {
  if (encoder_) opus_encoder_destroy(encoder_);
}

int32_t OpusAudioEncoder::encode(const int16_t* pcm, uint32_t frames, uint8_t* out, size_t capacity) {
  if (!pcm || !out || frames != static_cast<uint32_t>(kFrameSize)) return OPUS_BAD_ARG;
  const opus_int32 max = capacity > 0x7fffffff ? 0x7fffffff : static_cast<opus_int32>(capacity);
  return opus_encode(encoder_, pcm, kFrameSize, out, max);
}

bool OpusAudioEncoder::setBitrate(int32_t bitsPerSecond, std::string* error) {
  if (bitsPerSecond < 6000 || bitsPerSecond > 510000) {
    if (error) *error = "Opus encoder: bitrate must be between 6000 and 510000 b/s.";
    return false;
  }
  const int err = opus_encoder_ctl(encoder_, OPUS_SET_BITRATE(bitsPerSecond));
  if (err != OPUS_OK) return setError(error, "cannot change the bitrate", err);
  bitrate_ = bitsPerSecond;
  return true;
}

const char* OpusAudioEncoder::errorString(int32_t code) { return opus_strerror(code); }

}  // namespace deskcast::audio
