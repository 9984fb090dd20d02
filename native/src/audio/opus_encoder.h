// OpusAudioEncoder: RAII over libopus's OpusEncoder for deskcast's audio track: 48 kHz stereo, one 20 ms
// frame (960 samples per channel) per packet, application AUDIO, configurable bitrate (default
// 128 kb/s), in-band FEC on with an expected packet loss of 10 %.
//
// encode() writes into a caller-provided buffer and allocates nothing. The class never throws
// (it compiles with -fno-exceptions): create() reports errors through *error and encode()
// returns a negative libopus error code (see errorString()).
//
// Measured with libopus 1.3.1 (Debian bookworm), 128 kb/s stereo: in-band FEC (LBRR) exists only
// in SILK/hybrid frames, so with FEC on and packetLossPercent >= 5 the encoder sends hybrid
// fullband frames (TOC config 15) instead of CELT-only (config 31), at about 0.28 ms instead of
// 0.12 ms per frame. packetLossPercent = 0 gives CELT-only frames that carry no FEC at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct OpusEncoder;  // libopus's type (global namespace). Ours is named OpusAudioEncoder so that
                     // `using namespace deskcast::audio` next to <opus/opus.h> stays unambiguous.

namespace deskcast::audio {

struct OpusAudioEncoderOptions {
  int32_t bitrate = 128000;     // bits per second, 6000..510000
  bool inbandFec = true;        // OPUS_SET_INBAND_FEC(1)
  int32_t packetLossPercent = 10;  // OPUS_SET_PACKET_LOSS_PERC, 0..100
  int32_t complexity = 10;      // 0..10 (10 costs ~0.17 ms per frame here)
};

class OpusAudioEncoder {
 public:
  static constexpr int32_t kSampleRate = 48000;
  static constexpr int32_t kChannels = 2;
  static constexpr int32_t kFrameSize = 960;         // samples per channel in one 20 ms frame
  static constexpr size_t kMaxPacketBytes = 1275;    // largest Opus packet for one frame

  static std::unique_ptr<OpusAudioEncoder> create(const OpusAudioEncoderOptions& options, std::string* error);

  ~OpusAudioEncoder();
  OpusAudioEncoder(const OpusAudioEncoder&) = delete;
  OpusAudioEncoder& operator=(const OpusAudioEncoder&) = delete;

  // Encodes one 20 ms frame: `pcm` holds kFrameSize interleaved stereo S16 frames, `frames` must
  // be kFrameSize. Writes the packet to out[0..capacity) (kMaxPacketBytes always suffices).
  // Returns the packet size in bytes (> 0), or a negative libopus error code (OPUS_BAD_ARG for a
  // wrong frame count, OPUS_BUFFER_TOO_SMALL, ...).
  int32_t encode(const int16_t* pcm, uint32_t frames, uint8_t* out, size_t capacity);

  // Changes the bitrate of the running encoder (takes effect on the next frame).
  bool setBitrate(int32_t bitsPerSecond, std::string* error);
  int32_t bitrate() const { return bitrate_; }

  static const char* errorString(int32_t code);

 private:
  explicit OpusAudioEncoder(::OpusEncoder* encoder, int32_t bitrate) : encoder_(encoder), bitrate_(bitrate) {}

  ::OpusEncoder* encoder_;
  int32_t bitrate_;
};

}  // namespace deskcast::audio
