#include "capture/fallback_screen_source.h"

#include "common/errors.h"

namespace deskcast {

FallbackScreenSource::FallbackScreenSource(std::vector<Candidate> candidates)
    : candidates_(std::move(candidates)) {}

void FallbackScreenSource::open() {
  std::string lastCode = errc::kDisplayOpen;
  std::string lastFailure;
  int tried = 0;
  bool lastCandidateFailed = false;
  for (Candidate& c : candidates_) {
    if (!c.source) {
      skipped_ += c.name + " skipped: " + c.skipReason + "; ";
      continue;
    }
    if (chosen_) {
      // Never tried: one before it opened.
      skipped_ += c.name + " not tried: " + chosenName_ + " opened first; ";
      c.source.reset();
      continue;
    }
    tried++;
    try {
      c.source->open();
      chosen_ = c.source.get();
      chosenName_ = c.name;
    } catch (const DeskcastError& e) {
      skipped_ += c.name + " skipped: " + e.what() + "; ";
      lastCode = e.code();
      lastFailure = e.what();
      lastCandidateFailed = &c == &candidates_.back();
      c.source.reset();  // release its connection now
    }
  }
  if (!chosen_) {
    // Only the last one was given (no Wayland display, X failed): its own error, exactly as
    // `--capture x11` would say it, tells best what to do.
    if (tried == 1 && lastCandidateFailed) throw DeskcastError(lastCode, lastFailure);
    throw DeskcastError(lastCode, "no capture backend could open (--capture auto): " +
                                      skipped_.substr(0, skipped_.size() - 2));
  }
}

std::string FallbackScreenSource::openInfo() const {
  std::string info = "--capture auto chose " + chosenName_;
  if (chosen_ && !chosen_->openInfo().empty()) info += ": " + chosen_->openInfo();
  if (!skipped_.empty()) info += "; " + skipped_.substr(0, skipped_.size() - 2);
  return info;
}

}  // namespace deskcast
