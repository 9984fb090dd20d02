#include "capture/screen_source_factory.h"

#include "capture/x11_screen_source.h"
#include "common/errors.h"

namespace deskcast {

std::unique_ptr<ScreenSource> createScreenSource(const ScreenSourceConfig& config) {
  if (config.backend == "auto" || config.backend == "x11") {
    return std::make_unique<X11ScreenSource>(config.display, config.drawCursor);
  }
  throw DeskcastError(errc::kInvalidOption, "unknown capture backend '" + config.backend +
                                                "': this build captures with 'x11' (or 'auto')");
}

}  // namespace deskcast
