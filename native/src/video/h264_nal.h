// H.264 Annex B bitstream helpers (ITU-T H.264 §B): split into NAL units, name NAL types.
#pragma once

#include <cstddef>
#include <cstdint>

namespace deskcast {
namespace h264 {

enum NalType : uint8_t {
  kNalSlice = 1,
  kNalIdr = 5,
  kNalSei = 6,
  kNalSps = 7,
  kNalPps = 8,
  kNalAud = 9,
  kNalEndOfSequence = 10,
  kNalEndOfStream = 11,
  kNalFiller = 12,
};

// A NAL unit without its start code; data[0] is the NAL header byte.
struct NalUnit {
  const uint8_t* data = nullptr;
  size_t size = 0;
  uint8_t type() const noexcept { return data[0] & 0x1f; }
};

// Splits an Annex B byte stream into NAL units (3- and 4-byte start codes, trailing zero bytes
// dropped). Writes at most `maxNals` entries into `out` and returns the number found; if the
// return value exceeds maxNals the caller's array was too small (the rest were not stored).
size_t splitAnnexB(const uint8_t* data, size_t size, NalUnit* out, size_t maxNals) noexcept;

}  // namespace h264
}  // namespace deskcast
