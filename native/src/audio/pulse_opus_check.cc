// pulse_opus_check: standalone check of PulseCapture + OpusAudioEncoder against a real sound server.
//
//   g++ -std=c++17 -O2 pulse_opus_check.cc pulse_capture.cc opus_encoder.cc
//       $(pkg-config --cflags --libs libpulse opus) -o pulse_opus_check
//   ./pulse_opus_check --seconds 5 [--source NAME] [--server unix:/path] [--cookie FILE] [--pcm out.s16le]
//                      [--decoded-pcm out.s16le] [--bitrate 128000] [--retry-ms 1000]
//                      [--connect-timeout-ms 5000]
//   ./pulse_opus_check --fec-self-test [--loss-percent 10]   (offline: is FEC really in the packets?)
//
// Prints one JSON object per line on stdout: {"event":"state",...} on every capture state
// change, {"event":"progress",...} once per second of audio, and {"event":"summary",...} at the
// end (after --seconds, or on SIGINT/SIGTERM). --pcm dumps the captured S16LE 48 kHz stereo PCM,
// --decoded-pcm what an Opus decoder makes of the encoded packets.
//
// It also counts heap allocations (malloc/calloc/realloc, which operator new uses) made inside
// the chunk callback and on the capture thread as a whole, to check the "no allocation per
// chunk" promise.
#include <opus/opus.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "audio/opus_encoder.h"
#include "audio/pulse_capture.h"

// ---- allocation counting (interposes glibc's malloc family for this program only; build with
// -DDESKCAST_NO_ALLOC_COUNT for sanitizers, which bring their own malloc) ----
static thread_local int t_countMode = 0;  // 0 off, 1 capture thread, 2 inside the chunk callback
static std::atomic<uint64_t> g_threadAllocs{0};
static std::atomic<uint64_t> g_callbackAllocs{0};
#ifndef DESKCAST_NO_ALLOC_COUNT
extern "C" void* __libc_malloc(size_t);
extern "C" void* __libc_calloc(size_t, size_t);
extern "C" void* __libc_realloc(void*, size_t);
static inline void countAlloc() {
  if (t_countMode == 0) return;
  g_threadAllocs.fetch_add(1, std::memory_order_relaxed);
  if (t_countMode == 2) g_callbackAllocs.fetch_add(1, std::memory_order_relaxed);
}
extern "C" void* malloc(size_t n) {
  countAlloc();
  return __libc_malloc(n);
}
extern "C" void* calloc(size_t a, size_t b) {
  countAlloc();
  return __libc_calloc(a, b);
}
extern "C" void* realloc(void* p, size_t n) {
  countAlloc();
  return __libc_realloc(p, n);
}
#endif

namespace {

using deskcast::audio::AudioChunk;
using deskcast::audio::CaptureStateEvent;
using deskcast::audio::OpusAudioEncoder;
using deskcast::audio::PulseCapture;

std::atomic<bool> g_stop{false};
void onSignal(int) { g_stop.store(true); }

int64_t monotonicUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

struct Stats {
  uint64_t chunks = 0;
  double sumSquares = 0;  // normalised to [-1, 1]
  double secondSumSquares = 0;
  int32_t peak = 0;
  uint64_t packets = 0;
  uint64_t encodedBytes = 0;
  uint64_t encodeErrors = 0;
  int64_t maxEncodeUs = 0;
  int64_t totalEncodeUs = 0;
  double decodedSumSquares = 0;
  uint64_t decodedSamples = 0;
  uint64_t modeSilk = 0, modeHybrid = 0, modeCelt = 0;
  uint64_t discontinuities = 0;
  uint64_t sequenceErrors = 0;
  uint64_t nextSequence = 0;
  int64_t lastCaptureUs = 0;
  int64_t maxIntervalErrorUs = 0;  // |interval - 20 ms| between contiguous chunks
  int64_t maxAgeUs = 0;            // delivery time - capture time
  int64_t totalAgeUs = 0;
  uint64_t countedChunks = 0;      // chunks delivered while the capture thread was being counted
  uint64_t connects = 0;
  uint64_t disconnects = 0;
};

// Offline check that the encoder really puts in-band FEC into its packets: a tone that changes
// from 440 Hz to 660 Hz exactly at frame kLost; frame kLost is "lost". Recovering it from the
// next packet's FEC data must get it closer to the real frame than plain loss concealment
// (which can only extrapolate the 440 Hz that came before).
int fecSelfTest(int32_t bitrate, int32_t lossPercent) {
  constexpr int kFrames = 100, kLost = 50;
  deskcast::audio::OpusAudioEncoderOptions options;
  options.bitrate = bitrate;
  options.packetLossPercent = lossPercent;
  std::string error;
  auto encoder = OpusAudioEncoder::create(options, &error);
  if (!encoder) {
    std::fprintf(stderr, "pulse_opus_check: %s\n", error.c_str());
    return 1;
  }
  std::vector<std::vector<uint8_t>> packets(kFrames);
  std::vector<int16_t> pcm(static_cast<size_t>(OpusAudioEncoder::kFrameSize) * 2);
  double phase = 0;
  for (int f = 0; f < kFrames; ++f) {
    const double hz = f < kLost ? 440.0 : 660.0;
    for (int i = 0; i < OpusAudioEncoder::kFrameSize; ++i) {
      const auto v = static_cast<int16_t>(std::lrint(12000 * std::sin(phase)));
      phase += 2 * M_PI * hz / 48000;
      pcm[static_cast<size_t>(i) * 2] = pcm[static_cast<size_t>(i) * 2 + 1] = v;
    }
    packets[static_cast<size_t>(f)].resize(OpusAudioEncoder::kMaxPacketBytes);
    const int32_t n = encoder->encode(pcm.data(), OpusAudioEncoder::kFrameSize, packets[static_cast<size_t>(f)].data(),
                                      packets[static_cast<size_t>(f)].size());
    if (n <= 0) {
      std::fprintf(stderr, "pulse_opus_check: encode failed: %s\n", OpusAudioEncoder::errorString(n));
      return 1;
    }
    packets[static_cast<size_t>(f)].resize(static_cast<size_t>(n));
  }
  // reference: no loss; fec: frame kLost from packet kLost+1's FEC; plc: concealment only
  int err = 0;
  OpusDecoder* ref = opus_decoder_create(48000, 2, &err);
  OpusDecoder* fec = opus_decoder_create(48000, 2, &err);
  OpusDecoder* plc = opus_decoder_create(48000, 2, &err);
  std::vector<int16_t> a(pcm.size()), b(pcm.size()), c(pcm.size());
  double fecError = 0, plcError = 0, energy = 0;
  int fecSamples = 0;
  int decodeFailures = 0;
  auto decode = [&](OpusDecoder* d, const std::vector<uint8_t>* p, std::vector<int16_t>& out, int useFec) {
    const int n = p ? opus_decode(d, p->data(), static_cast<opus_int32>(p->size()), out.data(), OpusAudioEncoder::kFrameSize, useFec)
                    : opus_decode(d, nullptr, 0, out.data(), OpusAudioEncoder::kFrameSize, 0);
    if (n != OpusAudioEncoder::kFrameSize) ++decodeFailures;
    return n;
  };
  for (int f = 0; f <= kLost; ++f) {
    const auto& p = packets[static_cast<size_t>(f)];
    decode(ref, &p, a, 0);
    if (f < kLost) {
      decode(fec, &p, b, 0);
      decode(plc, &p, c, 0);
      continue;
    }
    fecSamples = decode(fec, &packets[static_cast<size_t>(kLost + 1)], b, 1);
    decode(plc, nullptr, c, 0);
    for (size_t i = 0; i < a.size(); ++i) {
      energy += static_cast<double>(a[i]) * a[i];
      fecError += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
      plcError += (static_cast<double>(a[i]) - c[i]) * (static_cast<double>(a[i]) - c[i]);
    }
  }
  opus_decoder_destroy(ref);
  opus_decoder_destroy(fec);
  opus_decoder_destroy(plc);
  const int config = packets[static_cast<size_t>(kLost + 1)][0] >> 3;
  std::printf("{\"event\":\"fec\",\"lossPercent\":%d,\"toc\":%d,\"fecSamples\":%d,\"decodeFailures\":%d,"
              "\"fecErrorRatio\":%.6f,\"plcErrorRatio\":%.6f}\n",
              lossPercent, config, fecSamples, decodeFailures, fecError / energy, plcError / energy);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string source, server, cookie, pcmPath, decodedPath;
  double seconds = 5;
  int bitrate = 128000;
  unsigned retryMs = 1000;
  unsigned connectTimeoutMs = 5000;
  bool fecTest = false;
  int lossPercent = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "pulse_opus_check: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--source") source = next();
    else if (arg == "--server") server = next();
    else if (arg == "--cookie") cookie = next();
    else if (arg == "--seconds") seconds = std::atof(next().c_str());
    else if (arg == "--pcm") pcmPath = next();
    else if (arg == "--decoded-pcm") decodedPath = next();
    else if (arg == "--bitrate") bitrate = std::atoi(next().c_str());
    else if (arg == "--retry-ms") retryMs = static_cast<unsigned>(std::atoi(next().c_str()));
    else if (arg == "--fec-self-test") fecTest = true;
    else if (arg == "--loss-percent") lossPercent = std::atoi(next().c_str());
    else if (arg == "--connect-timeout-ms") connectTimeoutMs = static_cast<unsigned>(std::atoi(next().c_str()));
    else {
      std::fprintf(stderr, "pulse_opus_check: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }

  if (fecTest) return fecSelfTest(bitrate, lossPercent);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);

  FILE* pcm = pcmPath.empty() ? nullptr : std::fopen(pcmPath.c_str(), "wb");
  FILE* decodedFile = decodedPath.empty() ? nullptr : std::fopen(decodedPath.c_str(), "wb");
  if ((!pcmPath.empty() && !pcm) || (!decodedPath.empty() && !decodedFile)) {
    std::fprintf(stderr, "pulse_opus_check: cannot open the output file: %s\n", std::strerror(errno));
    return 2;
  }

  std::string error;
  deskcast::audio::OpusAudioEncoderOptions encOptions;
  encOptions.bitrate = bitrate;
  auto encoder = OpusAudioEncoder::create(encOptions, &error);
  if (!encoder) {
    std::fprintf(stderr, "pulse_opus_check: %s\n", error.c_str());
    return 1;
  }
  int decErr = 0;
  ::OpusDecoder* decoder = opus_decoder_create(48000, 2, &decErr);
  if (!decoder) {
    std::fprintf(stderr, "pulse_opus_check: opus_decoder_create: %s\n", opus_strerror(decErr));
    return 1;
  }

  Stats stats;
  std::vector<uint8_t> packet(OpusAudioEncoder::kMaxPacketBytes);
  std::vector<int16_t> decoded(static_cast<size_t>(OpusAudioEncoder::kFrameSize) * 2);
  const int64_t startUs = monotonicUs();
  constexpr uint64_t kWarmupChunks = 25;  // libpulse settles its buffers in the first half second

  deskcast::audio::PulseCaptureOptions options;
  options.source = source;
  options.server = server;
  options.cookieFile = cookie;
  options.clientName = "deskcast-check";
  options.retryIntervalMs = retryMs;
  options.connectTimeoutMs = connectTimeoutMs;
  options.onState = [&](const CaptureStateEvent& e) {
    if (e.state == deskcast::audio::CaptureState::Connected) ++stats.connects;
    if (e.state == deskcast::audio::CaptureState::Disconnected) ++stats.disconnects;
    std::printf(
        "{\"event\":\"state\",\"state\":\"%s\",\"reason\":%s,\"source\":%s,\"server\":%s,\"attempt\":%u,"
        "\"chunks\":%llu,\"tMs\":%lld}\n",
        deskcast::audio::toString(e.state), jsonString(e.reason).c_str(), jsonString(e.source).c_str(),
        jsonString(e.server).c_str(), e.attempt, static_cast<unsigned long long>(stats.chunks),
        static_cast<long long>((monotonicUs() - startUs) / 1000));
    std::fflush(stdout);
  };
  options.onChunk = [&](const AudioChunk& chunk) {
    const int64_t now = monotonicUs();
    if (stats.chunks == kWarmupChunks) t_countMode = 1;  // from now on, count this thread's allocations
    const bool counting = t_countMode != 0;
    if (counting) {
      ++stats.countedChunks;
      t_countMode = 2;  // inside the callback
    }

    if (chunk.sequence != stats.nextSequence) ++stats.sequenceErrors;
    stats.nextSequence = chunk.sequence + 1;
    if (chunk.discontinuity) {
      ++stats.discontinuities;
    } else if (stats.lastCaptureUs) {
      const int64_t err = std::llabs(chunk.captureTimeUs - stats.lastCaptureUs - 20000);
      if (stats.chunks > kWarmupChunks && err > stats.maxIntervalErrorUs) stats.maxIntervalErrorUs = err;
    }
    stats.lastCaptureUs = chunk.captureTimeUs;
    const int64_t age = now - chunk.captureTimeUs;
    if (age > stats.maxAgeUs) stats.maxAgeUs = age;
    stats.totalAgeUs += age;

    const size_t n = static_cast<size_t>(chunk.frames) * 2;
    for (size_t i = 0; i < n; ++i) {
      const int32_t v = chunk.samples[i];
      const double x = v / 32768.0;
      stats.sumSquares += x * x;
      stats.secondSumSquares += x * x;
      const int32_t a = v < 0 ? -v : v;
      if (a > stats.peak) stats.peak = a;
    }
    if (pcm) std::fwrite(chunk.samples, sizeof(int16_t), n, pcm);

    const int64_t t0 = monotonicUs();
    const int32_t bytes = encoder->encode(chunk.samples, chunk.frames, packet.data(), packet.size());
    const int64_t took = monotonicUs() - t0;
    stats.totalEncodeUs += took;
    if (took > stats.maxEncodeUs) stats.maxEncodeUs = took;
    if (bytes <= 0) {
      ++stats.encodeErrors;
    } else {
      ++stats.packets;
      stats.encodedBytes += static_cast<uint64_t>(bytes);
      const int config = packet[0] >> 3;  // RFC 6716 TOC: 0-11 SILK, 12-15 hybrid, 16-31 CELT
      if (config < 12) ++stats.modeSilk;
      else if (config < 16) ++stats.modeHybrid;
      else ++stats.modeCelt;
      const int got = opus_decode(decoder, packet.data(), bytes, decoded.data(), OpusAudioEncoder::kFrameSize, 0);
      for (int i = 0; i < got * 2; ++i) {
        const double x = decoded[static_cast<size_t>(i)] / 32768.0;
        stats.decodedSumSquares += x * x;
      }
      if (got > 0) stats.decodedSamples += static_cast<uint64_t>(got) * 2;
      if (decodedFile && got > 0) std::fwrite(decoded.data(), sizeof(int16_t), static_cast<size_t>(got) * 2, decodedFile);
    }
    ++stats.chunks;
    if (stats.chunks % 50 == 0) {
      std::printf("{\"event\":\"progress\",\"chunks\":%llu,\"rms\":%.6f,\"tMs\":%lld}\n",
                  static_cast<unsigned long long>(stats.chunks), std::sqrt(stats.secondSumSquares / (50.0 * 960 * 2)),
                  static_cast<long long>((monotonicUs() - startUs) / 1000));
      std::fflush(stdout);
      stats.secondSumSquares = 0;
    }
    if (counting) t_countMode = 1;
  };

  auto capture = PulseCapture::create(std::move(options), &error);
  if (!capture) {
    std::fprintf(stderr, "pulse_opus_check: %s\n", error.c_str());
    return 1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  while (!g_stop.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  capture->stop();
  capture.reset();
  opus_decoder_destroy(decoder);
  if (pcm) std::fclose(pcm);
  if (decodedFile) std::fclose(decodedFile);

  const double samples = static_cast<double>(stats.chunks) * 960 * 2;
  std::printf(
      "{\"event\":\"summary\",\"chunks\":%llu,\"seconds\":%.3f,\"rms\":%.6f,\"peak\":%d,\"packets\":%llu,"
      "\"encodedBytes\":%llu,\"encodeErrors\":%llu,\"avgEncodeUs\":%.1f,\"maxEncodeUs\":%lld,\"decodedRms\":%.6f,"
      "\"modes\":{\"silk\":%llu,\"hybrid\":%llu,\"celt\":%llu},\"connects\":%llu,\"disconnects\":%llu,"
      "\"reconnects\":%llu,\"discontinuities\":%llu,\"sequenceErrors\":%llu,\"maxIntervalErrorUs\":%lld,"
      "\"avgAgeUs\":%.0f,\"maxAgeUs\":%lld,\"countedChunks\":%llu,\"callbackAllocs\":%llu,"
      "\"captureThreadAllocs\":%llu}\n",
      static_cast<unsigned long long>(stats.chunks), (monotonicUs() - startUs) / 1e6,
      samples > 0 ? std::sqrt(stats.sumSquares / samples) : 0.0, stats.peak,
      static_cast<unsigned long long>(stats.packets), static_cast<unsigned long long>(stats.encodedBytes),
      static_cast<unsigned long long>(stats.encodeErrors),
      stats.packets ? static_cast<double>(stats.totalEncodeUs) / static_cast<double>(stats.packets) : 0.0,
      static_cast<long long>(stats.maxEncodeUs),
      stats.decodedSamples ? std::sqrt(stats.decodedSumSquares / static_cast<double>(stats.decodedSamples)) : 0.0,
      static_cast<unsigned long long>(stats.modeSilk), static_cast<unsigned long long>(stats.modeHybrid),
      static_cast<unsigned long long>(stats.modeCelt), static_cast<unsigned long long>(stats.connects),
      static_cast<unsigned long long>(stats.disconnects),
      static_cast<unsigned long long>(stats.connects > 0 ? stats.connects - 1 : 0),
      static_cast<unsigned long long>(stats.discontinuities), static_cast<unsigned long long>(stats.sequenceErrors),
      static_cast<long long>(stats.maxIntervalErrorUs),
      stats.chunks ? static_cast<double>(stats.totalAgeUs) / static_cast<double>(stats.chunks) : 0.0,
      static_cast<long long>(stats.maxAgeUs), static_cast<unsigned long long>(stats.countedChunks),
      static_cast<unsigned long long>(g_callbackAllocs.load()), static_cast<unsigned long long>(g_threadAllocs.load()));
  std::fflush(stdout);
  return 0;
}
