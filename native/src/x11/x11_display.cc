#include "x11/x11_display.h"

#include <mutex>

#include "common/errors.h"

namespace deskcast {
namespace {

thread_local XErrorTrap* t_currentTrap = nullptr;
std::atomic<unsigned long> g_untrappedErrors{0};

int handleXIoError(Display*) {
  // Called when the connection breaks; the per-display exit handler decides what happens
  // next (we mark the display lost and return instead of exit()ing the process).
  return 0;
}

}  // namespace

int handleXError(Display* display, XErrorEvent* event) {
  for (XErrorTrap* trap = t_currentTrap; trap != nullptr; trap = trap->previous_) {
    if (trap->display_ == display) {
      if (trap->errorCode_ == 0) trap->errorCode_ = event->error_code;
      return 0;
    }
  }
  // Unexpected, asynchronous error: never fatal for the process.
  g_untrappedErrors.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

void installXErrorHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    XInitThreads();
    XSetErrorHandler(handleXError);
    XSetIOErrorHandler(handleXIoError);
  });
}

std::unique_ptr<X11Display> X11Display::open(const std::string& name) {
  installXErrorHandlers();
  Display* display = XOpenDisplay(name.c_str());
  if (display == nullptr) {
    throw DeskcastError(errc::kDisplayOpen,
                        "cannot open X display '" + name +
                            "': is an X server running there? Pass --display or unset it to "
                            "let deskcast start its own");
  }
  return std::unique_ptr<X11Display>(new X11Display(display, name));
}

X11Display::X11Display(Display* display, std::string name)
    : display_(display), name_(std::move(name)) {
  XSetIOErrorExitHandler(display_, &X11Display::onIoErrorExit, this);
}

void X11Display::onIoErrorExit(Display* display, void* self) {
  // Returning (instead of exit()) leaves the Display in its error state: later Xlib calls on it
  // return at once; the owner notices connectionLost() and shuts down cleanly.
  static_cast<X11Display*>(self)->lost_.store(true, std::memory_order_relaxed);
  // libX11's _XIOError takes the display's user lock (as XLockDisplay) and never releases it,
  // expecting exit() to follow. Release it, or closing the display from another thread (stop()
  // on the JS thread) would wait for this thread forever.
  XUnlockDisplay(display);
}

X11Display::~X11Display() {
  if (display_ != nullptr) XCloseDisplay(display_);
}

XErrorTrap::XErrorTrap(Display* display) : display_(display), previous_(t_currentTrap) {
  t_currentTrap = this;
}

XErrorTrap::~XErrorTrap() { t_currentTrap = previous_; }

int XErrorTrap::sync() {
  XSync(display_, False);
  return errorCode_;
}

std::string XErrorTrap::errorText() const {
  if (errorCode_ == 0) return "no error";
  char text[128] = {0};
  XGetErrorText(display_, errorCode_, text, sizeof text - 1);
  return std::string(text) + " (X error " + std::to_string(errorCode_) + ")";
}

}  // namespace deskcast
