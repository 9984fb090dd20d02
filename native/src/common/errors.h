// Error type shared by every native component: a stable machine-readable code
// plus a human message that says what happened and what to do about it.
#pragma once

#include <cstring>
#include <stdexcept>
#include <string>

namespace deskcast {

// Codes surface in JS as `error.code` (thrown errors) or `event.code` ('error' events).
namespace errc {
inline constexpr const char* kInvalidOption = "ERR_INVALID_OPTION";
inline constexpr const char* kSessionBusy = "ERR_SESSION_ACTIVE";
inline constexpr const char* kSessionState = "ERR_SESSION_STATE";
inline constexpr const char* kDisplayOpen = "ERR_DISPLAY_OPEN";
inline constexpr const char* kDisplayLost = "ERR_DISPLAY_LOST";
inline constexpr const char* kNoShm = "ERR_NO_MIT_SHM";
inline constexpr const char* kNoXTest = "ERR_NO_XTEST";
inline constexpr const char* kUnsupportedVisual = "ERR_UNSUPPORTED_VISUAL";
inline constexpr const char* kCaptureFailed = "ERR_CAPTURE_FAILED";
inline constexpr const char* kNoEncoder = "ERR_NO_ENCODER";
inline constexpr const char* kEncodeFailed = "ERR_ENCODE_FAILED";
inline constexpr const char* kSocket = "ERR_SOCKET";
inline constexpr const char* kAudioCapture = "ERR_AUDIO_CAPTURE";
inline constexpr const char* kAudioEncoder = "ERR_AUDIO_ENCODER";
inline constexpr const char* kInternal = "ERR_INTERNAL";
}  // namespace errc

class DeskcastError : public std::runtime_error {
 public:
  DeskcastError(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// strerror_r's text for an errno value (GNU variant: returns the message pointer).
inline std::string errnoText(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof buf);
}

}  // namespace deskcast
