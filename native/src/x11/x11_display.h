// RAII X11 display connection plus process-wide, non-fatal X error handling.
//
// Xlib's default handlers exit() the process on protocol errors and when the server goes away;
// a broadcast server must survive both. installXErrorHandlers() replaces them once per process:
// protocol errors are recorded in the calling thread's XErrorTrap, and a lost connection only
// marks the X11Display as lost. Shared by capture and (later) input injection.
#pragma once

#include <X11/Xlib.h>

#include <atomic>
#include <memory>
#include <string>

namespace deskcast {

// Call once, before any other Xlib use (module init). Also calls XInitThreads().
void installXErrorHandlers();

class X11Display {
 public:
  // Throws DeskcastError(ERR_DISPLAY_OPEN) with advice when the display cannot be opened.
  static std::unique_ptr<X11Display> open(const std::string& name);
  ~X11Display();
  X11Display(const X11Display&) = delete;
  X11Display& operator=(const X11Display&) = delete;

  Display* get() const noexcept { return display_; }
  const std::string& name() const noexcept { return name_; }
  // True once Xlib reported an I/O error (server died or connection closed).
  bool connectionLost() const noexcept { return lost_.load(std::memory_order_relaxed); }

 private:
  X11Display(Display* display, std::string name);
  static void onIoErrorExit(Display* display, void* self);

  Display* display_;
  std::string name_;
  std::atomic<bool> lost_{false};
};

// While alive, X protocol errors raised on this thread for `display` are recorded here instead
// of reaching the global handler. Call sync() to flush requests and collect pending errors.
class XErrorTrap {
 public:
  explicit XErrorTrap(Display* display);
  ~XErrorTrap();
  XErrorTrap(const XErrorTrap&) = delete;
  XErrorTrap& operator=(const XErrorTrap&) = delete;

  // XSync()s and returns the first recorded error code (0 = none).
  int sync();
  int errorCode() const noexcept { return errorCode_; }
  std::string errorText() const;

 private:
  friend int handleXError(Display*, XErrorEvent*);
  Display* display_;
  XErrorTrap* previous_;
  int errorCode_ = 0;
};

}  // namespace deskcast
