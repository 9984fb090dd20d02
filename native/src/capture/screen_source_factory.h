// Picks the capture backend for a VideoSession (`--capture auto|x11|wayland`).
#pragma once

#include <memory>
#include <string>

#include "capture/screen_source.h"

namespace deskcast {

struct ScreenSourceConfig {
  // "auto": Wayland (ext-image-copy-capture, else wlr-screencopy) when a Wayland display is
  // given, else X11; its openInfo() names the choice and why each other candidate was skipped;
  // "x11"; "wayland" (either protocol); "ext-image-copy-capture" or "wlr-screencopy" force one.
  std::string backend = "auto";
  std::string display;         // X display name (":0")
  std::string waylandDisplay;  // socket name in $XDG_RUNTIME_DIR or an absolute path; "" = none
  std::string output;          // Wayland output name; "" = the first
  bool drawCursor = true;
};

// Creates (does not open) the source. Throws DeskcastError(ERR_INVALID_OPTION) for a backend
// this build does not have.
std::unique_ptr<ScreenSource> createScreenSource(const ScreenSourceConfig& config);

}  // namespace deskcast
