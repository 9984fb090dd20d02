// PulseCapture: records S16LE 48 kHz stereo from a PulseAudio (or pipewire-pulse) source on
// libpulse's own thread and hands out fixed 20 ms chunks (960 frames) to a callback.
//
// - RAII over pa_threaded_mainloop / pa_context / pa_stream: create() connects and starts the
//   capture thread, the destructor (or stop()) tears everything down and joins the thread.
// - source "" = the default sink's monitor (what the machine plays). The default sink is
//   resolved through the server (server info -> sink info -> monitor_source_name) and followed
//   when it changes. The stream is PA_STREAM_DONT_MOVE, so when the source disappears it is
//   never silently replaced by another one (e.g. a microphone).
// - When the sound server goes away (crash, restart) it reports Disconnected with the reason and
//   reconnects by itself every retryIntervalMs; it reports Connected again when it is back.
// - No allocation per chunk: one preallocated 960-frame accumulator; the callback gets a
//   pointer into it that is valid only during the call.
// - Compiles with and without -fno-exceptions: it never throws; create() reports errors.
//
// Threading: both callbacks always run on the capture thread (libpulse's mainloop thread, named
// "deskcast-audio") with its lock held, never on the thread that called create() or stop().
// Keep them short (an Opus encode is fine), and never call stop() or destroy the object from
// inside them (stop() refuses and returns false there).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct pa_threaded_mainloop;
struct pa_context;
struct pa_stream;
struct pa_time_event;
struct pa_operation;
struct pa_server_info;
struct pa_sink_info;

namespace deskcast::audio {

struct AudioChunk {
  const int16_t* samples;  // interleaved L,R; frames * 2 values; valid only during the callback
  uint32_t frames;         // always PulseCapture::kChunkFrames (960 = 20 ms)
  uint64_t sequence;       // 0, 1, 2, ... since create(), continues across reconnects
  int64_t captureTimeUs;   // CLOCK_MONOTONIC (uv_hrtime's clock) time of the first sample: libpulse's
                           // latency-based estimate, smoothed (+20 ms per chunk, slewed toward the
                           // estimate by 1/32 of the error, re-anchored when >40 ms off)
  bool discontinuity;      // first chunk after a (re)connect or a source change
};

enum class CaptureState { Connecting, Connected, Disconnected, Stopped };
const char* toString(CaptureState state);

struct CaptureStateEvent {
  CaptureState state;
  std::string reason;  // what happened and what to do; empty when Connected
  std::string source;  // source being recorded (Connected) or tried
  std::string server;  // server string, when known
  uint32_t attempt;    // connection attempts since the last Connected (0 when Connected)
};

struct PulseCaptureOptions {
  std::string source;  // "" = default sink's monitor (followed when the default sink changes)
  std::string server;  // "" = libpulse's default (PULSE_SERVER, then $XDG_RUNTIME_DIR/pulse/native)
  std::string cookieFile;  // "" = libpulse's default (PULSE_COOKIE, ~/.config/pulse/cookie); a
                           // server of the same UID accepts us without one
  std::string clientName = "deskcast";
  std::string streamName = "deskcast capture";
  uint32_t retryIntervalMs = 1000;
  uint32_t connectTimeoutMs = 5000;  // a connection not ready by then is dropped and retried
  std::function<void(const AudioChunk&)> onChunk;         // required
  std::function<void(const CaptureStateEvent&)> onState;  // optional
};

class PulseCapture {
 public:
  static constexpr uint32_t kSampleRate = 48000;
  static constexpr uint32_t kChannels = 2;
  static constexpr uint32_t kChunkFrames = 960;  // 20 ms
  static constexpr uint32_t kChunkBytes = kChunkFrames * kChannels * sizeof(int16_t);

  // Starts the capture thread and the first connection attempt. Returns nullptr and sets *error
  // only for problems that retrying cannot fix (bad options, libpulse cannot start a thread).
  // An unreachable server or a missing source is not an error here: it is reported through
  // onState(Disconnected) and retried.
  static std::unique_ptr<PulseCapture> create(PulseCaptureOptions options, std::string* error);

  ~PulseCapture();
  PulseCapture(const PulseCapture&) = delete;
  PulseCapture& operator=(const PulseCapture&) = delete;

  // Disconnects and joins the capture thread; idempotent. No callback runs after it returns.
  // Returns false (and does nothing) when called from a callback on the capture thread.
  bool stop();

  CaptureState state() const { return state_.load(std::memory_order_acquire); }
  uint64_t chunksDelivered() const { return chunks_.load(std::memory_order_relaxed); }

 private:
  explicit PulseCapture(PulseCaptureOptions options);
  bool start(std::string* error);

  // All of the following run on the capture thread (or with the mainloop lock held).
  void connectContext();
  void resolveAndConnectStream();
  void connectStream(const std::string& source);
  void onContextState();
  void onStreamState();
  void onRead(size_t nbytes);
  void onServerInfo(const pa_server_info* info);
  void onDefaultSinkInfo(const pa_sink_info* info, int eol);
  void onServerChanged();
  void contextGone(int err);
  void streamFailed(int err, const std::string& source);
  void scheduleRetry();
  void scheduleRetry(uint32_t delayMs);
  void onRetry();
  void onConnectTimeout();
  void cancelConnectTimer();
  void teardownStream();
  void teardownContext();
  void cancelOperation();
  void report(CaptureState state, const std::string& reason, const std::string& source);
  void appendFrames(const int16_t* samples, uint32_t frames, int64_t firstFrameTimeUs);
  std::string serverLabel() const;
  std::string retrySuffix() const;

  PulseCaptureOptions options_;
  pa_threaded_mainloop* mainloop_ = nullptr;
  pa_context* context_ = nullptr;
  pa_stream* stream_ = nullptr;
  pa_time_event* retryTimer_ = nullptr;
  pa_time_event* connectTimer_ = nullptr;  // watchdog: a server that accepts but never answers
  pa_operation* operation_ = nullptr;  // pending server/sink info lookup
  std::string streamSource_;           // source the current stream records (or tries)
  std::string defaultSink_;            // last resolved default sink (source "" only)
  std::string pendingMonitor_;         // its monitor, while the sink lookup runs
  std::string lastReason_;
  std::string lastSource_;
  CaptureState reported_ = CaptureState::Stopped;  // last state given to onState
  uint32_t attempt_ = 0;
  bool stopping_ = false;

  std::vector<int16_t> accumulator_;  // kChunkFrames * kChannels, allocated once
  uint32_t accFrames_ = 0;
  int64_t accStartUs_ = 0;
  int64_t timelineUs_ = 0;
  bool pendingDiscontinuity_ = true;
  uint64_t sequence_ = 0;

  std::atomic<CaptureState> state_{CaptureState::Connecting};
  std::atomic<uint64_t> chunks_{0};

  friend struct PulseCaptureCallbacks;
};

}  // namespace deskcast::audio
