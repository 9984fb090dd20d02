// wl_output transforms: how a compositor lays the upright (logical) picture into a turned
// output's framebuffer — flipped around the vertical axis first (transforms 4-7), then turned 90°
// counter-clockwise (transform & 3) times. Capture turns framebuffers back upright with it, and
// absolute pointer motion goes through it: wlroots maps a virtual pointer's absolute position
// onto the output in framebuffer orientation (as for a touchscreen on the turned panel).
#pragma once

#include <cstdint>

namespace deskcast {

// Upright (x, y) in a `width` x `height` picture → framebuffer (*fx, *fy). `edge` 1: pixel
// indices (the last column is width - 1); 0: continuous coordinates (the right edge is width).
template <typename T>
constexpr void uprightToFramebuffer(int32_t transform, T width, T height, T x, T y, T edge, T* fx, T* fy) noexcept {
  if (transform & 4) x = width - edge - x;
  switch (transform & 3) {
    case 1: *fx = y; *fy = width - edge - x; return;
    case 2: *fx = width - edge - x; *fy = height - edge - y; return;
    case 3: *fx = height - edge - y; *fy = x; return;
    default: *fx = x; *fy = y; return;
  }
}

// The upright size of a `modeWidth` x `modeHeight` framebuffer: a quarter-turned one is portrait.
constexpr bool quarterTurned(int32_t transform) noexcept { return (transform & 1) != 0; }

}  // namespace deskcast
