#include "capture/fallback_screen_source.h"

#include "common/errors.h"

namespace deskcast {

FallbackScreenSource::FallbackScreenSource(std::vector<Candidate> candidates)
    : candidates_(std::move(candidates)) {}

void FallbackScreenSource::open() {
  std::string lastCode = errc::kDisplayOpen;
  for (Candidate& c : candidates_) {
    if (!c.source) {
      skipped_ += c.name + " skipped: " + c.skipReason + "; ";
      continue;
    }
    try {
      c.source->open();
      chosen_ = c.source.get();
      chosenName_ = c.name;
      break;
    } catch (const DeskcastError& e) {
      skipped_ += c.name + " skipped: " + e.what() + "; ";
      lastCode = e.code();
      c.source.reset();  // release its connection now
    }
  }
  if (!chosen_) {
    throw DeskcastError(lastCode, "no capture backend could open (--capture auto): " +
                                      skipped_.substr(0, skipped_.size() - 2));
  }
  // The ones after the chosen one were never tried: release them.
  for (Candidate& c : candidates_) {
    if (c.source.get() != chosen_) c.source.reset();
  }
}

std::string FallbackScreenSource::openInfo() const {
  std::string info = "--capture auto chose " + chosenName_;
  if (chosen_ && !chosen_->openInfo().empty()) info += ": " + chosen_->openInfo();
  if (!skipped_.empty()) info += "; " + skipped_.substr(0, skipped_.size() - 2);
  return info;
}

}  // namespace deskcast
