// `--capture auto`: tries its candidates in order (Wayland, then X11) and captures with the
// first that opens; openInfo() says which and why each one before it was skipped.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "capture/screen_source.h"

namespace deskcast {

class FallbackScreenSource final : public ScreenSource {
 public:
  struct Candidate {
    std::string name;
    std::unique_ptr<ScreenSource> source;  // nullptr: skipped for `skipReason`
    std::string skipReason;
  };
  explicit FallbackScreenSource(std::vector<Candidate> candidates);

  // Throws the last candidate's DeskcastError, with every skip reason, when none opens.
  void open() override;
  GrabResult grab(BgrxFrame* frame) override { return chosen_->grab(frame); }
  int width() const noexcept override { return chosen_ ? chosen_->width() : 0; }
  int height() const noexcept override { return chosen_ ? chosen_->height() : 0; }
  const std::string& lastError() const noexcept override { return chosen_ ? chosen_->lastError() : lastError_; }
  const std::string& displayName() const noexcept override { return chosen_ ? chosen_->displayName() : name_; }
  bool cursorSupported() const noexcept override { return chosen_ && chosen_->cursorSupported(); }
  std::string openInfo() const override;
  int waitFd() const noexcept override { return chosen_ ? chosen_->waitFd() : -1; }
  bool onWaitFdReadable() override { return chosen_ && chosen_->onWaitFdReadable(); }
  int64_t pollIntervalNs() const noexcept override { return chosen_ ? chosen_->pollIntervalNs() : 0; }
  bool changeDriven() const noexcept override { return chosen_ && chosen_->changeDriven(); }
  const std::string& changeTrackingUnavailable() const noexcept override {
    return chosen_ ? chosen_->changeTrackingUnavailable() : ScreenSource::changeTrackingUnavailable();
  }
  const char* backend() const noexcept override { return chosen_ ? chosen_->backend() : "auto"; }

 private:
  std::vector<Candidate> candidates_;
  ScreenSource* chosen_ = nullptr;
  std::string chosenName_;
  std::string skipped_;  // "wayland skipped: ...; "
  std::string lastError_;
  std::string name_ = "auto";
};

}  // namespace deskcast
