#include "js/test_bindings.h"

#include <opus/opus.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "audio/opus_encoder.h"
#include "audio/audio_rtp_timeline.h"
#include "video/ffmpeg_util.h"
#include "video/h264_nal.h"
#include "js/js_options.h"
#include "common/media_clock.h"
#include "rtp/opus_rtp_packetizer.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_packetizer.h"
#include "rtp/vp8_rtp_packetizer.h"
#include "video/vp8_encoder.h"
#include "common/errors.h"

namespace deskcast {
namespace {

Napi::Buffer<uint8_t> bufferArg(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  if (info.Length() <= index || !info[index].IsBuffer()) {
    throwInvalidOption(info.Env(), std::string("__test.") + fn + ": argument " +
                                       std::to_string(index) + " must be a Buffer");
  }
  return info[index].As<Napi::Buffer<uint8_t>>();
}

uint32_t optionalUint(const Napi::Object& o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}

uint64_t bigintOr(const Napi::Value& v, uint64_t fallback) {
  if (!v.IsBigInt()) return fallback;
  bool lossless;
  return v.As<Napi::BigInt>().Uint64Value(&lossless);
}

// packetize(annexB, maxPayload = 1200, {ssrc, payloadType, sequenceNumber, timestamp}?)
//   → Buffer[] of RTP packets for one access unit.
Napi::Value packetize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto input = bufferArg(info, 0, "packetize");
  size_t maxPayload = info.Length() > 1 && info[1].IsNumber()
                          ? info[1].As<Napi::Number>().Uint32Value()
                          : kDefaultMaxRtpPayload;
  if (maxPayload < 3 || maxPayload > 65000) throwInvalidOption(env, "__test.packetize: bad maxPayload");
  Napi::Object opts = info.Length() > 2 && info[2].IsObject() ? info[2].As<Napi::Object>()
                                                             : Napi::Object::New(env);
  H264RtpPacketizer packetizer(optionalUint(opts, "ssrc", 0x11223344),
                               static_cast<uint8_t>(optionalUint(opts, "payloadType", 96)),
                               static_cast<uint16_t>(optionalUint(opts, "sequenceNumber", 0)),
                               maxPayload);
  size_t count = h264::splitAnnexB(input.Data(), input.Length(), nullptr, 0);
  std::vector<h264::NalUnit> nals(count);
  h264::splitAnnexB(input.Data(), input.Length(), nals.data(), nals.size());

  struct Collector : RtpPacketSink {
    std::vector<std::vector<uint8_t>> packets;
    void onRtpPacket(const uint8_t* p, size_t size, size_t) override {
      packets.emplace_back(p, p + size);
    }
  } collector;
  packetizer.packetize(nals.data(), nals.size(), optionalUint(opts, "timestamp", 0), collector);
  Napi::Array result = Napi::Array::New(env, collector.packets.size());
  for (size_t i = 0; i < collector.packets.size(); i++) {
    const auto& p = collector.packets[i];
    result.Set(static_cast<uint32_t>(i), Napi::Buffer<uint8_t>::Copy(env, p.data(), p.size()));
  }
  return result;
}

// vp8Packetize(frames: Buffer[], maxPayload = 1200, {ssrc, payloadType, sequenceNumber,
//   pictureId, timestamp}?) → Buffer[] of RTP packets (timestamp +3000 per frame).
Napi::Value vp8Packetize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throwInvalidOption(env, "__test.vp8Packetize: frames must be an array");
  Napi::Array frames = info[0].As<Napi::Array>();
  size_t maxPayload = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value()
                                                               : kDefaultMaxRtpPayload;
  if (maxPayload < 5 || maxPayload > 65000) throwInvalidOption(env, "__test.vp8Packetize: bad maxPayload");
  Napi::Object opts = info.Length() > 2 && info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
  Vp8RtpPacketizer packetizer(optionalUint(opts, "ssrc", 0x55667788),
                              static_cast<uint8_t>(optionalUint(opts, "payloadType", 97)),
                              static_cast<uint16_t>(optionalUint(opts, "sequenceNumber", 0)),
                              static_cast<uint16_t>(optionalUint(opts, "pictureId", 0)), maxPayload);
  struct Collector : RtpPacketSink {
    std::vector<std::vector<uint8_t>> packets;
    void onRtpPacket(const uint8_t* p, size_t size, size_t) override { packets.emplace_back(p, p + size); }
  } collector;
  uint32_t ts = optionalUint(opts, "timestamp", 0);
  for (uint32_t i = 0; i < frames.Length(); i++) {
    Napi::Value f = frames.Get(i);
    if (!f.IsBuffer()) throwInvalidOption(env, "__test.vp8Packetize: every frame must be a Buffer");
    auto b = f.As<Napi::Buffer<uint8_t>>();
    packetizer.packetize(b.Data(), b.Length(), ts, false, collector);
    ts += 3000;
  }
  Napi::Array result = Napi::Array::New(env, collector.packets.size());
  for (size_t i = 0; i < collector.packets.size(); i++) {
    const auto& p = collector.packets[i];
    result.Set(static_cast<uint32_t>(i), Napi::Buffer<uint8_t>::Copy(env, p.data(), p.size()));
  }
  return result;
}

// vp8Encode({width, height, frames, forceKeyframeAt?: number[], bitrateKbps?}) → {data, keyframe}[]
// of a synthetic moving picture (I420), through the production Vp8Encoder.
Napi::Value vp8Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throwInvalidOption(env, "__test.vp8Encode: expects options");
  Napi::Object o = info[0].As<Napi::Object>();
  Vp8Settings settings;
  settings.width = static_cast<int>(optionalUint(o, "width", 320));
  settings.height = static_cast<int>(optionalUint(o, "height", 240));
  settings.bitrateKbps = static_cast<int>(optionalUint(o, "bitrateKbps", 1000));
  settings.keyframeIntervalSec = 60;
  const uint32_t count = optionalUint(o, "frames", 10);
  std::vector<bool> force(count, false);
  Napi::Value fk = o.Get("forceKeyframeAt");
  if (fk.IsArray()) {
    Napi::Array a = fk.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      uint32_t at = a.Get(i).As<Napi::Number>().Uint32Value();
      if (at < count) force[at] = true;
    }
  }
  if (settings.width < 2 || settings.height < 2 || settings.width > 4096 || settings.height > 4096 || count > 1000) {
    throwInvalidOption(env, "__test.vp8Encode: bad size or frame count");
  }
  const int cw = (settings.width + 1) / 2, ch = (settings.height + 1) / 2;
  std::vector<uint8_t> y(static_cast<size_t>(settings.width) * settings.height), u(cw * ch, 90), v(cw * ch, 240);
  struct Collector : Vp8FrameSink {
    std::vector<std::pair<std::vector<uint8_t>, bool>> frames;
    void onVp8Frame(const uint8_t* d, size_t size, bool key, bool) override { frames.push_back({{d, d + size}, key}); }
  } collector;
  try {
    Vp8Encoder encoder(settings);
    for (uint32_t f = 0; f < count; f++) {
      for (int r = 0; r < settings.height; r++) {
        for (int c = 0; c < settings.width; c++) y[static_cast<size_t>(r) * settings.width + c] = static_cast<uint8_t>((c + 4 * f) ^ r);
      }
      YuvPicture pic{y.data(), u.data(), v.data(), settings.width, cw, cw, false};
      encoder.encode(pic, static_cast<int64_t>(f) * 33333333, force[f], collector);
    }
  } catch (const DeskcastError& e) {
    throwInvalidOption(env, e.what());
  }
  Napi::Array result = Napi::Array::New(env, collector.frames.size());
  for (size_t i = 0; i < collector.frames.size(); i++) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("data", Napi::Buffer<uint8_t>::Copy(env, collector.frames[i].first.data(), collector.frames[i].first.size()));
    r.Set("keyframe", collector.frames[i].second);
    result.Set(static_cast<uint32_t>(i), r);
  }
  return result;
}

// splitAnnexB(annexB) → Buffer[] of NAL units (no start codes).
Napi::Value splitAnnexB(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto input = bufferArg(info, 0, "splitAnnexB");
  size_t count = h264::splitAnnexB(input.Data(), input.Length(), nullptr, 0);
  std::vector<h264::NalUnit> nals(count);
  h264::splitAnnexB(input.Data(), input.Length(), nals.data(), nals.size());
  Napi::Array result = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; i++) {
    result.Set(static_cast<uint32_t>(i), Napi::Buffer<uint8_t>::Copy(env, nals[i].data, nals[i].size));
  }
  return result;
}

// parseRtcp(datagram, ourSsrc) → FeedbackSummary
Napi::Value parseRtcp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto input = bufferArg(info, 0, "parseRtcp");
  uint32_t ssrc = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
  rtcp::FeedbackSummary s = rtcp::parseCompound(input.Data(), input.Length(), ssrc);
  Napi::Object o = Napi::Object::New(env);
  o.Set("malformed", s.malformed);
  o.Set("packets", s.packets);
  o.Set("senderReports", s.senderReports);
  o.Set("receiverReports", s.receiverReports);
  o.Set("pli", s.pli);
  o.Set("fir", s.fir);
  o.Set("nack", s.nack);
  o.Set("ignoredFeedback", s.ignoredFeedback);
  o.Set("lastFirSeq", s.lastFirSeq);
  o.Set("isRtcp", rtcp::looksLikeRtcp(input.Data(), input.Length()));
  return o;
}

// buildSr({ssrc, ntpTimestamp?: bigint, rtpTimestamp, packetCount, octetCount, cname}) → Buffer
Napi::Value buildSr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throwInvalidOption(env, "__test.buildSr: options object required");
  Napi::Object o = info[0].As<Napi::Object>();
  rtcp::SenderReport sr;
  sr.ssrc = optionalUint(o, "ssrc", 0);
  sr.ntpTimestamp = bigintOr(o.Get("ntpTimestamp"), MediaClock::instance().ntpTimestamp(MediaClock::nowNs()));
  sr.rtpTimestamp = optionalUint(o, "rtpTimestamp", 0);
  sr.packetCount = optionalUint(o, "packetCount", 0);
  sr.octetCount = optionalUint(o, "octetCount", 0);
  std::string cname = o.Get("cname").IsString() ? o.Get("cname").As<Napi::String>().Utf8Value() : "";
  uint8_t buffer[512];
  size_t size = rtcp::buildSenderReport(sr, cname, buffer, sizeof buffer);
  if (size == 0) throwInvalidOption(env, "__test.buildSr: cname must be 1..255 bytes");
  return Napi::Buffer<uint8_t>::Copy(env, buffer, size);
}

// mediaClock(monoNs?: bigint) → {monoNs, ntp: bigint, rtp90k, rtp48k} (offset 0)
Napi::Value mediaClock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const MediaClock& clock = MediaClock::instance();
  int64_t mono = info.Length() > 0 && info[0].IsBigInt()
                     ? static_cast<int64_t>(bigintOr(info[0], 0))
                     : MediaClock::nowNs();
  Napi::Object o = Napi::Object::New(env);
  o.Set("monoNs", Napi::BigInt::New(env, mono));
  o.Set("epochMonoNs", Napi::BigInt::New(env, clock.epochMonoNs()));
  o.Set("ntp", Napi::BigInt::New(env, clock.ntpTimestamp(mono)));
  o.Set("rtp90k", clock.rtpTimestamp(mono, MediaClock::kVideoClockRate, 0));
  o.Set("rtp48k", clock.rtpTimestamp(mono, MediaClock::kAudioClockRate, 0));
  return o;
}

// decodeH264(accessUnits: Buffer[]) → [{width, height, keyFrame, y, u, v}] where y/u/v sample
// the picture's center. Uses libavcodec's H.264 decoder to prove a bitstream decodes.
Napi::Value decodeH264(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throwInvalidOption(env, "__test.decodeH264: Buffer[] required");
  Napi::Array units = info[0].As<Napi::Array>();
  FfmpegLogCapture log;
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_H264);
  AVCodecContextPtr ctx(avcodec_alloc_context3(codec));
  ctx->thread_count = 1;
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0) throw Napi::Error::New(env, "cannot open H.264 decoder");
  AVPacketPtr packet(av_packet_alloc());
  AVFramePtr frame(av_frame_alloc());
  Napi::Array result = Napi::Array::New(env);
  uint32_t decoded = 0;
  auto receive = [&]() {
    while (avcodec_receive_frame(ctx.get(), frame.get()) == 0) {
      Napi::Object f = Napi::Object::New(env);
      int w = frame->width, h = frame->height;
      f.Set("width", w);
      f.Set("height", h);
      f.Set("keyFrame", frame->key_frame != 0);
      f.Set("y", frame->data[0][(h / 2) * frame->linesize[0] + w / 2]);
      f.Set("u", frame->data[1][(h / 4) * frame->linesize[1] + w / 4]);
      f.Set("v", frame->data[2][(h / 4) * frame->linesize[2] + w / 4]);
      result.Set(decoded++, f);
      av_frame_unref(frame.get());
    }
  };
  for (uint32_t i = 0; i < units.Length(); i++) {
    Napi::Value v = units.Get(i);
    if (!v.IsBuffer()) continue;
    auto b = v.As<Napi::Buffer<uint8_t>>();
    std::vector<uint8_t> data(b.Data(), b.Data() + b.Length());
    data.resize(data.size() + AV_INPUT_BUFFER_PADDING_SIZE, 0);
    packet->data = data.data();
    packet->size = static_cast<int>(b.Length());
    int rc = avcodec_send_packet(ctx.get(), packet.get());
    if (rc < 0) {
      throw Napi::Error::New(env, "H.264 decode failed on access unit " + std::to_string(i) + ": " +
                                      avErrorText(rc) + " " + log.errors());
    }
    receive();
  }
  avcodec_send_packet(ctx.get(), nullptr);
  receive();
  return result;
}

// opusPacketize(payload, {ssrc, payloadType, sequenceNumber, timestamp, marker}?) → Buffer
Napi::Value opusPacketize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto input = bufferArg(info, 0, "opusPacketize");
  Napi::Object opts = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  OpusRtpPacketizer packetizer(optionalUint(opts, "ssrc", 0x11223344),
                               static_cast<uint8_t>(optionalUint(opts, "payloadType", 111)),
                               static_cast<uint16_t>(optionalUint(opts, "sequenceNumber", 0)));
  if (input.Length() > packetizer.payloadCapacity()) throwInvalidOption(env, "__test.opusPacketize: payload too large");
  std::copy(input.Data(), input.Data() + input.Length(), packetizer.payload());
  size_t size = packetizer.finish(input.Length(), optionalUint(opts, "timestamp", 0),
                                  opts.Get("marker").ToBoolean().Value());
  return Napi::Buffer<uint8_t>::Copy(env, packetizer.data(), size);
}

// audioTimeline([{captureTimeUs, discontinuity}], offset) → [{timestamp, reanchored, clock}] where
// clock is MediaClock's own 48 kHz timestamp of that capture time (same offset).
Napi::Value audioTimeline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throwInvalidOption(env, "__test.audioTimeline: chunk array required");
  Napi::Array chunks = info[0].As<Napi::Array>();
  uint32_t offset = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
  AudioRtpTimeline timeline(offset);
  Napi::Array result = Napi::Array::New(env, chunks.Length());
  for (uint32_t i = 0; i < chunks.Length(); i++) {
    Napi::Object c = chunks.Get(i).As<Napi::Object>();
    int64_t captureNs = static_cast<int64_t>(c.Get("captureTimeUs").ToNumber().DoubleValue()) * 1000;
    uint32_t ts = timeline.next(captureNs, c.Get("discontinuity").ToBoolean().Value(), 960);
    Napi::Object o = Napi::Object::New(env);
    o.Set("timestamp", ts);
    o.Set("reanchored", timeline.reanchored());
    o.Set("clock", MediaClock::instance().rtpTimestamp(captureNs, MediaClock::kAudioClockRate, offset));
    result.Set(i, o);
  }
  return result;
}

// encodeOpus(pcm: S16LE stereo 48 kHz, bitrateKbps = 128) → Buffer[] (one Opus packet per 960
// frames; a partial last chunk is dropped). The production encoder settings (FEC on).
Napi::Value encodeOpus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto input = bufferArg(info, 0, "encodeOpus");
  audio::OpusAudioEncoderOptions options;
  if (info.Length() > 1 && info[1].IsNumber()) options.bitrate = info[1].As<Napi::Number>().Int32Value() * 1000;
  std::string error;
  auto encoder = audio::OpusAudioEncoder::create(options, &error);
  if (!encoder) throw Napi::Error::New(env, error);
  constexpr size_t kChunkBytes = 960 * 2 * sizeof(int16_t);
  std::vector<int16_t> pcm(960 * 2);
  uint8_t packet[audio::OpusAudioEncoder::kMaxPacketBytes];
  Napi::Array result = Napi::Array::New(env);
  uint32_t n = 0;
  for (size_t off = 0; off + kChunkBytes <= input.Length(); off += kChunkBytes) {
    std::memcpy(pcm.data(), input.Data() + off, kChunkBytes);
    int32_t size = encoder->encode(pcm.data(), 960, packet, sizeof packet);
    if (size < 0) throw Napi::Error::New(env, std::string("opus encode failed: ") + audio::OpusAudioEncoder::errorString(size));
    result.Set(n++, Napi::Buffer<uint8_t>::Copy(env, packet, static_cast<size_t>(size)));
  }
  return result;
}

// decodeOpus(packets: (Buffer | null)[]) → Buffer of S16LE stereo 48 kHz PCM (null = a lost
// packet: concealment). libopus' reference decoder, as a browser would run it.
Napi::Value decodeOpus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throwInvalidOption(env, "__test.decodeOpus: (Buffer | null)[] required");
  Napi::Array packets = info[0].As<Napi::Array>();
  int err = OPUS_OK;
  std::unique_ptr<OpusDecoder, decltype(&opus_decoder_destroy)> decoder(opus_decoder_create(48000, 2, &err),
                                                                         &opus_decoder_destroy);
  if (!decoder || err != OPUS_OK) throw Napi::Error::New(env, std::string("opus_decoder_create: ") + opus_strerror(err));
  std::vector<int16_t> out;
  std::vector<int16_t> frame(5760 * 2);  // 120 ms, the largest Opus frame
  for (uint32_t i = 0; i < packets.Length(); i++) {
    Napi::Value v = packets.Get(i);
    int samples;
    if (v.IsBuffer()) {
      auto b = v.As<Napi::Buffer<uint8_t>>();
      samples = opus_decode(decoder.get(), b.Data(), static_cast<opus_int32>(b.Length()), frame.data(), 5760, 0);
    } else {
      samples = opus_decode(decoder.get(), nullptr, 0, frame.data(), 960, 0);
    }
    if (samples < 0) {
      throw Napi::Error::New(env, "opus_decode failed on packet " + std::to_string(i) + ": " + opus_strerror(samples));
    }
    out.insert(out.end(), frame.begin(), frame.begin() + samples * 2);
  }
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(out.data()), out.size() * sizeof(int16_t));
}

}  // namespace

Napi::Object createTestBindings(Napi::Env env) {
  Napi::Object t = Napi::Object::New(env);
  t.Set("packetize", Napi::Function::New(env, packetize, "packetize"));
  t.Set("vp8Packetize", Napi::Function::New(env, vp8Packetize, "vp8Packetize"));
  t.Set("vp8Encode", Napi::Function::New(env, vp8Encode, "vp8Encode"));
  t.Set("splitAnnexB", Napi::Function::New(env, splitAnnexB, "splitAnnexB"));
  t.Set("parseRtcp", Napi::Function::New(env, parseRtcp, "parseRtcp"));
  t.Set("buildSr", Napi::Function::New(env, buildSr, "buildSr"));
  t.Set("mediaClock", Napi::Function::New(env, mediaClock, "mediaClock"));
  t.Set("decodeH264", Napi::Function::New(env, decodeH264, "decodeH264"));
  t.Set("opusPacketize", Napi::Function::New(env, opusPacketize, "opusPacketize"));
  t.Set("audioTimeline", Napi::Function::New(env, audioTimeline, "audioTimeline"));
  t.Set("encodeOpus", Napi::Function::New(env, encodeOpus, "encodeOpus"));
  t.Set("decodeOpus", Napi::Function::New(env, decodeOpus, "decodeOpus"));
  addInputTestBindings(env, t);
  addCaptureTestBindings(env, t);
  return t;
}

}  // namespace deskcast
