#include "capture/screen_source_factory.h"

#include "capture/fallback_screen_source.h"
#include "capture/wayland_screen_source.h"
#include "capture/x11_screen_source.h"
#include "common/errors.h"

namespace deskcast {

std::unique_ptr<ScreenSource> createScreenSource(const ScreenSourceConfig& config) {
  using Protocol = WaylandScreenSource::Protocol;
  auto wayland = [&](Protocol p) {
    return std::make_unique<WaylandScreenSource>(config.waylandDisplay, config.output, config.drawCursor, p);
  };
  if (config.backend == "x11") return std::make_unique<X11ScreenSource>(config.display, config.drawCursor);
  if (config.backend == "wayland") return wayland(Protocol::kAuto);
  if (config.backend == "ext-image-copy-capture") return wayland(Protocol::kExtImageCopyCapture);
  if (config.backend == "wlr-screencopy") return wayland(Protocol::kWlrScreencopy);
  if (config.backend == "auto") {
    // Always through the fallback, so the log says what was chosen and why the rest was not.
    std::vector<FallbackScreenSource::Candidate> candidates;
    if (config.waylandDisplay.empty()) {
      candidates.push_back({"wayland", nullptr, "no Wayland display given (--wayland-display / $WAYLAND_DISPLAY)"});
    } else {
      candidates.push_back({"wayland", wayland(Protocol::kAuto), ""});
    }
    if (config.display.empty()) {
      candidates.push_back({"x11", nullptr, "no X display given (--display / $DISPLAY)"});
    } else {
      candidates.push_back({"x11", std::make_unique<X11ScreenSource>(config.display, config.drawCursor), ""});
    }
    return std::make_unique<FallbackScreenSource>(std::move(candidates));
  }
  throw DeskcastError(errc::kInvalidOption,
                      "unknown capture backend '" + config.backend +
                          "': use auto, x11, wayland, ext-image-copy-capture or wlr-screencopy");
}

}  // namespace deskcast
