#include "video/h264_nal.h"

#include <cstring>

namespace deskcast {
namespace h264 {
namespace {

// Returns the offset of the next 00 00 01 at or after `from`, or `size` if none.
size_t findStartCode(const uint8_t* data, size_t size, size_t from) noexcept {
  size_t i = from;
  while (i + 3 <= size) {
    const void* hit = memchr(data + i + 2, 0x01, size - i - 2);
    if (hit == nullptr) return size;
    size_t one = static_cast<const uint8_t*>(hit) - data;  // position of a 0x01 byte
    if (one >= i + 2 && data[one - 1] == 0 && data[one - 2] == 0) return one - 2;
    i = one - 1;
  }
  return size;
}

}  // namespace

size_t splitAnnexB(const uint8_t* data, size_t size, NalUnit* out, size_t maxNals) noexcept {
  size_t count = 0;
  size_t sc = findStartCode(data, size, 0);
  while (sc < size) {
    size_t begin = sc + 3;
    size_t next = findStartCode(data, size, begin);
    size_t end = next;
    // Zero bytes before the next start code (4-byte start codes, trailing_zero_8bits)
    // belong to no NAL unit: a NAL unit never ends in 0x00.
    while (end > begin && data[end - 1] == 0) end--;
    if (end > begin) {
      if (count < maxNals) out[count] = NalUnit{data + begin, end - begin};
      count++;
    }
    sc = next;
  }
  return count;
}

}  // namespace h264
}  // namespace deskcast
