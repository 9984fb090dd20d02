// Picks the capture backend for a VideoSession. Only X11 exists today; `backend` is the slot a
// `--capture auto|x11|wayland` option fills once a Wayland or PipeWire source is written.
#pragma once

#include <memory>
#include <string>

#include "capture/screen_source.h"

namespace deskcast {

struct ScreenSourceConfig {
  std::string backend = "auto";  // "auto" (today: x11) or "x11"
  std::string display;           // X display name (":0"); a Wayland socket name later
  bool drawCursor = true;
};

// Creates (does not open) the source. Throws DeskcastError(ERR_INVALID_OPTION) for a backend
// this build does not have.
std::unique_ptr<ScreenSource> createScreenSource(const ScreenSourceConfig& config);

}  // namespace deskcast
