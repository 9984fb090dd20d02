#include "audio/pulse_capture.h"

#include <pulse/pulseaudio.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>

namespace deskcast::audio {

namespace {

int64_t monotonicUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::string format(const char* fmt, const std::string& a, const std::string& b = std::string(),
                   const std::string& c = std::string()) {
  char buf[1024];
  std::snprintf(buf, sizeof buf, fmt, a.c_str(), b.c_str(), c.c_str());
  return buf;
}

// Server-side buffering cap for the record stream: if the capture thread stalls, older audio is
// dropped instead of being delivered late (keeps A/V latency bounded).
constexpr uint32_t kMaxBufferedBytes = PulseCapture::kSampleRate / 2 * PulseCapture::kChannels * sizeof(int16_t);

}  // namespace

const char* toString(CaptureState state) {
  switch (state) {
    case CaptureState::Connecting: return "connecting";
    case CaptureState::Connected: return "connected";
    case CaptureState::Disconnected: return "disconnected";
    case CaptureState::Stopped: return "stopped";
  }
  return "unknown";
}

// C trampolines for libpulse's callbacks (friend of PulseCapture).
struct PulseCaptureCallbacks {
  static void contextState(pa_context*, void* self) { static_cast<PulseCapture*>(self)->onContextState(); }
  static void streamState(pa_stream*, void* self) { static_cast<PulseCapture*>(self)->onStreamState(); }
  static void streamRead(pa_stream*, size_t nbytes, void* self) { static_cast<PulseCapture*>(self)->onRead(nbytes); }
  static void serverInfo(pa_context*, const pa_server_info* info, void* self) {
    static_cast<PulseCapture*>(self)->onServerInfo(info);
  }
  static void sinkInfo(pa_context*, const pa_sink_info* info, int eol, void* self) {
    static_cast<PulseCapture*>(self)->onDefaultSinkInfo(info, eol);
  }
  static void subscription(pa_context*, pa_subscription_event_type_t type, uint32_t, void* self) {
    if ((type & PA_SUBSCRIPTION_EVENT_FACILITY_MASK) == PA_SUBSCRIPTION_EVENT_SERVER) {
      static_cast<PulseCapture*>(self)->onServerChanged();
    }
  }
  static void connectTimeout(pa_mainloop_api* api, pa_time_event* e, const struct timeval*, void* self) {
    auto* capture = static_cast<PulseCapture*>(self);
    api->time_free(e);
    capture->connectTimer_ = nullptr;
    capture->onConnectTimeout();
  }
  static void retry(pa_mainloop_api* api, pa_time_event* e, const struct timeval*, void* self) {
    auto* capture = static_cast<PulseCapture*>(self);
    api->time_free(e);
    capture->retryTimer_ = nullptr;
    capture->onRetry();
  }
};

std::unique_ptr<PulseCapture> PulseCapture::create(PulseCaptureOptions options, std::string* error) {
  auto fail = [&](const char* message) -> std::unique_ptr<PulseCapture> {
    if (error) *error = message;
    return nullptr;
  };
  if (!options.onChunk) return fail("PulseCapture: options.onChunk is required (it receives the 20 ms PCM chunks).");
  if (options.retryIntervalMs < 100 || options.retryIntervalMs > 60000) {
    return fail("PulseCapture: retryIntervalMs must be between 100 and 60000.");
  }
  if (options.connectTimeoutMs < 500 || options.connectTimeoutMs > 600000) {
    return fail("PulseCapture: connectTimeoutMs must be between 500 and 600000.");
  }
  std::unique_ptr<PulseCapture> capture(new PulseCapture(std::move(options)));
  if (!capture->start(error)) return nullptr;
  return capture;
}

PulseCapture::PulseCapture(PulseCaptureOptions options) : options_(std::move(options)) {
  accumulator_.assign(static_cast<size_t>(kChunkFrames) * kChannels, 0);
}

PulseCapture::~PulseCapture() { stop(); }

bool PulseCapture::start(std::string* error) {
  mainloop_ = pa_threaded_mainloop_new();
  if (!mainloop_) {
    if (error) *error = "PulseCapture: libpulse could not create its mainloop (out of memory?).";
    return false;
  }
  pa_threaded_mainloop_set_name(mainloop_, "deskcast-audio");
  if (pa_threaded_mainloop_start(mainloop_) < 0) {
    pa_threaded_mainloop_free(mainloop_);
    mainloop_ = nullptr;
    if (error) *error = "PulseCapture: libpulse could not start its capture thread.";
    return false;
  }
  // The first connection attempt runs on the capture thread too, so every callback does.
  pa_threaded_mainloop_lock(mainloop_);
  scheduleRetry(0);
  pa_threaded_mainloop_unlock(mainloop_);
  return true;
}

bool PulseCapture::stop() {
  if (!mainloop_) return true;
  if (pa_threaded_mainloop_in_thread(mainloop_)) return false;
  pa_threaded_mainloop_lock(mainloop_);
  stopping_ = true;
  if (retryTimer_) {
    pa_threaded_mainloop_get_api(mainloop_)->time_free(retryTimer_);
    retryTimer_ = nullptr;
  }
  cancelConnectTimer();
  cancelOperation();
  teardownStream();
  teardownContext();
  pa_threaded_mainloop_unlock(mainloop_);
  pa_threaded_mainloop_stop(mainloop_);
  pa_threaded_mainloop_free(mainloop_);
  mainloop_ = nullptr;
  state_.store(CaptureState::Stopped, std::memory_order_release);
  return true;
}

// ---- connection management (capture thread / lock held) ----

void PulseCapture::connectContext() {
  if (stopping_) return;
  ++attempt_;
  pa_proplist* props = pa_proplist_new();
  pa_proplist_sets(props, PA_PROP_APPLICATION_NAME, options_.clientName.c_str());
  pa_proplist_sets(props, PA_PROP_APPLICATION_ID, "deskcast");
  context_ = pa_context_new_with_proplist(pa_threaded_mainloop_get_api(mainloop_), options_.clientName.c_str(), props);
  pa_proplist_free(props);
  if (!context_) {
    report(CaptureState::Disconnected, "libpulse could not create a context (out of memory?)" + retrySuffix(),
           options_.source);
    scheduleRetry();
    return;
  }
  if (!options_.cookieFile.empty() && pa_context_load_cookie_from_file(context_, options_.cookieFile.c_str()) < 0) {
    teardownContext();
    report(CaptureState::Disconnected,
           format("cannot read the sound server's cookie file '%s': check the path and that deskcast may read it",
                  options_.cookieFile) +
               retrySuffix(),
           options_.source);
    scheduleRetry();
    return;
  }
  pa_context_set_state_callback(context_, PulseCaptureCallbacks::contextState, this);
  pa_context_set_subscribe_callback(context_, PulseCaptureCallbacks::subscription, this);

  // Keep our own reference: a synchronous failure may run the state callback (which tears the
  // context down) before pa_context_connect returns.
  pa_context* c = pa_context_ref(context_);
  // NOAUTOSPAWN: never let libpulse start a sound server of its own behind the user's back.
  const int rc = pa_context_connect(c, options_.server.empty() ? nullptr : options_.server.c_str(),
                                    PA_CONTEXT_NOAUTOSPAWN, nullptr);
  const int err = pa_context_errno(c);
  pa_context_unref(c);
  if (rc < 0 && context_ == c) {
    contextGone(err);
    return;
  }
  if (context_ == c && !connectTimer_) {
    pa_mainloop_api* api = pa_threaded_mainloop_get_api(mainloop_);
    timeval tv{};
    pa_gettimeofday(&tv);
    pa_timeval_add(&tv, static_cast<pa_usec_t>(options_.connectTimeoutMs) * 1000);
    connectTimer_ = api->time_new(api, &tv, PulseCaptureCallbacks::connectTimeout, this);
  }
}

void PulseCapture::onConnectTimeout() {
  if (stopping_ || !context_ || pa_context_get_state(context_) == PA_CONTEXT_READY) return;
  contextGone(PA_ERR_TIMEOUT);
}

void PulseCapture::cancelConnectTimer() {
  if (!connectTimer_) return;
  pa_threaded_mainloop_get_api(mainloop_)->time_free(connectTimer_);
  connectTimer_ = nullptr;
}

void PulseCapture::onContextState() {
  if (!context_ || stopping_) return;
  switch (pa_context_get_state(context_)) {
    case PA_CONTEXT_READY:
      cancelConnectTimer();
      if (options_.source.empty()) {
        // Follow the default sink: server change events tell us when it moves.
        pa_operation* op = pa_context_subscribe(context_, PA_SUBSCRIPTION_MASK_SERVER, nullptr, nullptr);
        if (op) pa_operation_unref(op);
      }
      resolveAndConnectStream();
      break;
    case PA_CONTEXT_FAILED:
    case PA_CONTEXT_TERMINATED:
      contextGone(pa_context_errno(context_));
      break;
    default:
      break;
  }
}

void PulseCapture::contextGone(int err) {
  cancelConnectTimer();
  cancelOperation();
  teardownStream();
  teardownContext();
  const std::string server = serverLabel();
  const std::string what = pa_strerror(err);
  std::string reason;
  switch (err) {
    case PA_ERR_CONNECTIONTERMINATED:
      reason = format("lost the connection to the sound server %s: %s. It stopped or crashed; deskcast reconnects by "
                      "itself when it is back",
                      server, what);
      break;
    case PA_ERR_ACCESS:
    case PA_ERR_AUTHKEY:
      reason = format("the sound server %s refused access: %s. Run deskcast as the user that owns the sound "
                      "server, or set PULSE_COOKIE to that server's cookie file",
                      server, what);
      break;
    case PA_ERR_TIMEOUT:
      reason = format("the sound server %s accepted the connection but did not answer (%s): it may be hung or "
                      "overloaded. Check it with `pactl info`; restart it if that hangs too",
                      server, what);
      break;
    case PA_ERR_CONNECTIONREFUSED:
    case PA_ERR_INVALIDSERVER:
    case PA_ERR_IO:
      reason = format("cannot connect to the sound server %s: %s. Start PulseAudio or pipewire-pulse "
                      "(`pulseaudio --start`, or `systemctl --user start pipewire-pulse`), or point PULSE_SERVER "
                      "at a running one",
                      server, what);
      break;
    default:
      reason = format("the connection to the sound server %s failed: %s", server, what);
      break;
  }
  report(CaptureState::Disconnected, reason + retrySuffix(), streamSource_.empty() ? options_.source : streamSource_);
  scheduleRetry();
}

void PulseCapture::resolveAndConnectStream() {
  if (stopping_ || !context_ || stream_ || operation_) return;
  if (!options_.source.empty()) {
    connectStream(options_.source);
    return;
  }
  // Default sink -> its monitor source, asked from the server (works with pipewire-pulse too).
  operation_ = pa_context_get_server_info(context_, PulseCaptureCallbacks::serverInfo, this);
  if (!operation_) streamFailed(pa_context_errno(context_), "@DEFAULT_MONITOR@");
}

void PulseCapture::onServerInfo(const pa_server_info* info) {
  cancelOperation();
  if (!info || !info->default_sink_name || !*info->default_sink_name) {
    report(CaptureState::Disconnected,
           format("the sound server %s has no default sink, so there is no monitor to capture. Set one with "
                  "`pactl set-default-sink NAME` or choose a source with --audio-source (`pactl list short sources`)",
                  serverLabel()) +
               retrySuffix(),
           "@DEFAULT_MONITOR@");
    teardownStream();
    scheduleRetry();
    return;
  }
  defaultSink_ = info->default_sink_name;
  pendingMonitor_.clear();
  operation_ = pa_context_get_sink_info_by_name(context_, info->default_sink_name, PulseCaptureCallbacks::sinkInfo, this);
  if (!operation_) streamFailed(pa_context_errno(context_), defaultSink_ + ".monitor");
}

void PulseCapture::onDefaultSinkInfo(const pa_sink_info* info, int eol) {
  if (info && eol == 0) {
    if (info->monitor_source_name) pendingMonitor_ = info->monitor_source_name;
    return;
  }
  cancelOperation();
  if (pendingMonitor_.empty()) {
    report(CaptureState::Disconnected,
           format("the default sink '%s' on the sound server %s has no monitor source (or vanished while being looked up); choose a "
                  "source with --audio-source (`pactl list short sources`)",
                  defaultSink_, serverLabel()) +
               retrySuffix(),
           defaultSink_ + ".monitor");
    teardownStream();
    scheduleRetry();
    return;
  }
  if (stream_ && streamSource_ == pendingMonitor_) return;  // default sink unchanged
  teardownStream();
  connectStream(pendingMonitor_);
}

void PulseCapture::onServerChanged() {
  // Only reached when following the default sink; re-resolve it, switch if it moved.
  if (stopping_ || !context_ || operation_ || pa_context_get_state(context_) != PA_CONTEXT_READY) return;
  operation_ = pa_context_get_server_info(context_, PulseCaptureCallbacks::serverInfo, this);
}

void PulseCapture::connectStream(const std::string& source) {
  if (stopping_ || !context_) return;
  pa_sample_spec spec{};
  spec.format = PA_SAMPLE_S16LE;
  spec.rate = kSampleRate;
  spec.channels = kChannels;
  pa_channel_map map;
  pa_channel_map_init_stereo(&map);
  streamSource_ = source;
  stream_ = pa_stream_new(context_, options_.streamName.c_str(), &spec, &map);
  if (!stream_) {
    streamFailed(pa_context_errno(context_), source);
    return;
  }
  pa_stream_set_state_callback(stream_, PulseCaptureCallbacks::streamState, this);
  pa_stream_set_read_callback(stream_, PulseCaptureCallbacks::streamRead, this);

  pa_buffer_attr attr{};
  attr.maxlength = kMaxBufferedBytes;
  attr.fragsize = kChunkBytes;  // ask the server to deliver in 20 ms pieces
  attr.tlength = attr.prebuf = attr.minreq = static_cast<uint32_t>(-1);
  // DONT_MOVE: if the source goes away, fail (and retry it) instead of being moved to another
  // source such as a microphone.
  const auto flags = static_cast<pa_stream_flags_t>(PA_STREAM_ADJUST_LATENCY | PA_STREAM_AUTO_TIMING_UPDATE |
                                                    PA_STREAM_INTERPOLATE_TIMING | PA_STREAM_DONT_MOVE);
  pa_stream* s = pa_stream_ref(stream_);
  const int rc = pa_stream_connect_record(s, source.c_str(), &attr, flags);
  const int err = pa_context_errno(context_);
  pa_stream_unref(s);
  if (rc < 0 && stream_ == s) {
    teardownStream();
    streamFailed(err, source);
  }
}

void PulseCapture::onStreamState() {
  if (!stream_ || stopping_) return;
  switch (pa_stream_get_state(stream_)) {
    case PA_STREAM_READY: {
      const char* device = pa_stream_get_device_name(stream_);
      if (device) streamSource_ = device;
      attempt_ = 0;
      accFrames_ = 0;
      pendingDiscontinuity_ = true;
      report(CaptureState::Connected, "", streamSource_);
      break;
    }
    case PA_STREAM_FAILED: {
      // When the whole connection dropped, the context's callback already handled it.
      if (!context_ || pa_context_get_state(context_) != PA_CONTEXT_READY) return;
      const int err = pa_context_errno(context_);
      const std::string source = streamSource_;
      teardownStream();
      streamFailed(err, source);
      break;
    }
    default:
      break;
  }
}

void PulseCapture::streamFailed(int err, const std::string& source) {
  std::string reason;
  const std::string server = serverLabel();
  switch (err) {
    case PA_ERR_NOENTITY:
      reason = format("audio source '%s' does not exist on the sound server %s. List sources with `pactl list short "
                      "sources` (a sink's monitor is '<sink>.monitor') and pass one with --audio-source",
                      source, server);
      break;
    case PA_ERR_KILLED:
      reason = format("audio source '%s' went away (its sink or device was removed); capture resumes when it is back",
                      source);
      break;
    default:
      reason = format("recording from audio source '%s' on the sound server %s failed: %s", source, server,
                      pa_strerror(err));
      break;
  }
  report(CaptureState::Disconnected, reason + retrySuffix(), source);
  scheduleRetry();
}

void PulseCapture::scheduleRetry() { scheduleRetry(options_.retryIntervalMs); }

void PulseCapture::scheduleRetry(uint32_t delayMs) {
  if (stopping_ || retryTimer_) return;
  pa_mainloop_api* api = pa_threaded_mainloop_get_api(mainloop_);
  timeval tv{};
  pa_gettimeofday(&tv);
  pa_timeval_add(&tv, static_cast<pa_usec_t>(delayMs) * 1000);
  retryTimer_ = api->time_new(api, &tv, PulseCaptureCallbacks::retry, this);
}

void PulseCapture::onRetry() {
  if (stopping_) return;
  if (!context_) {
    if (reported_ == CaptureState::Stopped) report(CaptureState::Connecting, "", options_.source);  // first attempt
    connectContext();
  } else if (pa_context_get_state(context_) == PA_CONTEXT_READY && !stream_ && !operation_) {
    ++attempt_;
    resolveAndConnectStream();
  }
}

void PulseCapture::teardownStream() {
  if (!stream_) return;
  pa_stream_set_state_callback(stream_, nullptr, nullptr);
  pa_stream_set_read_callback(stream_, nullptr, nullptr);
  if (PA_STREAM_IS_GOOD(pa_stream_get_state(stream_))) pa_stream_disconnect(stream_);
  pa_stream_unref(stream_);
  stream_ = nullptr;
  accFrames_ = 0;  // a partial chunk is dropped; the next chunk is flagged as a discontinuity
  pendingDiscontinuity_ = true;
}

void PulseCapture::teardownContext() {
  if (!context_) return;
  pa_context_set_state_callback(context_, nullptr, nullptr);
  pa_context_set_subscribe_callback(context_, nullptr, nullptr);
  pa_context_disconnect(context_);
  pa_context_unref(context_);
  context_ = nullptr;
}

void PulseCapture::cancelOperation() {
  if (!operation_) return;
  pa_operation_cancel(operation_);
  pa_operation_unref(operation_);
  operation_ = nullptr;
}

void PulseCapture::report(CaptureState state, const std::string& reason, const std::string& source) {
  state_.store(state, std::memory_order_release);
  if (state == reported_ && reason == lastReason_ && source == lastSource_) return;  // no repeats per retry
  reported_ = state;
  lastReason_ = reason;
  lastSource_ = source;
  if (!options_.onState) return;
  CaptureStateEvent event{state, reason, source, std::string(), attempt_};
  if (context_ && pa_context_get_state(context_) == PA_CONTEXT_READY) {
    const char* server = pa_context_get_server(context_);
    if (server) event.server = server;
  }
  if (event.server.empty()) event.server = options_.server;
  if (state == CaptureState::Connected) event.attempt = 0;
  options_.onState(event);
}

std::string PulseCapture::serverLabel() const {
  if (!options_.server.empty()) return "at " + options_.server;
  if (const char* env = std::getenv("PULSE_SERVER"); env && *env) return "at " + std::string(env) + " (from PULSE_SERVER)";
  return "at its default address ($XDG_RUNTIME_DIR/pulse/native)";
}

std::string PulseCapture::retrySuffix() const {
  char buf[64];
  if (options_.retryIntervalMs % 1000 == 0) {
    std::snprintf(buf, sizeof buf, "; retrying every %u s.", options_.retryIntervalMs / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "; retrying every %u ms.", options_.retryIntervalMs);
  }
  return buf;
}

// ---- data path (capture thread, no allocation) ----

void PulseCapture::onRead(size_t) {
  while (stream_ && pa_stream_readable_size(stream_) > 0) {
    const void* data = nullptr;
    size_t nbytes = 0;
    if (pa_stream_peek(stream_, &data, &nbytes) < 0 || nbytes == 0) return;
    const uint32_t frames = static_cast<uint32_t>(nbytes / (kChannels * sizeof(int16_t)));
    // Age of the oldest unread sample (= the first sample of this fragment): source latency plus
    // what is queued in the stream. Falls back to "the fragment just ended" before timing info.
    const int64_t now = monotonicUs();
    pa_usec_t latency = 0;
    int negative = 0;
    int64_t firstUs;
    if (pa_stream_get_latency(stream_, &latency, &negative) == 0) {
      firstUs = negative ? now + static_cast<int64_t>(latency) : now - static_cast<int64_t>(latency);
    } else {
      firstUs = now - static_cast<int64_t>(frames) * 1000000 / kSampleRate;
    }
    // data == nullptr with nbytes > 0 is a hole in the stream: deliver silence for it.
    appendFrames(static_cast<const int16_t*>(data), frames, firstUs);
    if (stream_) pa_stream_drop(stream_);
  }
}

void PulseCapture::appendFrames(const int16_t* samples, uint32_t frames, int64_t firstFrameTimeUs) {
  uint32_t offset = 0;
  while (offset < frames) {
    if (accFrames_ == 0) accStartUs_ = firstFrameTimeUs + static_cast<int64_t>(offset) * 1000000 / kSampleRate;
    const uint32_t n = std::min(kChunkFrames - accFrames_, frames - offset);
    int16_t* dst = accumulator_.data() + static_cast<size_t>(accFrames_) * kChannels;
    const size_t bytes = static_cast<size_t>(n) * kChannels * sizeof(int16_t);
    if (samples) {
      std::memcpy(dst, samples + static_cast<size_t>(offset) * kChannels, bytes);
    } else {
      std::memset(dst, 0, bytes);
    }
    accFrames_ += n;
    offset += n;
    if (accFrames_ == kChunkFrames) {
      // Smoothed timeline: exactly 20 ms per chunk, slewed gently toward libpulse's latency-based
      // estimate (tracks clock drift, ignores its jitter), re-anchored when far off or after a gap.
      constexpr int64_t kChunkUs = static_cast<int64_t>(kChunkFrames) * 1000000 / kSampleRate;
      constexpr int64_t kReanchorUs = 40000;
      if (pendingDiscontinuity_ || sequence_ == 0) {
        timelineUs_ = accStartUs_;
      } else {
        timelineUs_ += kChunkUs;
        const int64_t error = accStartUs_ - timelineUs_;
        if (error > kReanchorUs || error < -kReanchorUs) {
          timelineUs_ = accStartUs_;
        } else {
          timelineUs_ += error / 32;
        }
      }
      const AudioChunk chunk{accumulator_.data(), kChunkFrames, sequence_++, timelineUs_, pendingDiscontinuity_};
      pendingDiscontinuity_ = false;
      accFrames_ = 0;
      chunks_.fetch_add(1, std::memory_order_relaxed);
      options_.onChunk(chunk);
    }
  }
}

}  // namespace deskcast::audio
