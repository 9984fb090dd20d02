/* A long-lived X painter for latency benchmarks: reads "RRGGBB" lines on stdin, fills the root
 * window with that colour, waits for the server (XSync), then prints the CLOCK_REALTIME time in
 * ms at which the paint was done. No process start per paint: the paint instant is known to
 * well under a millisecond. Build: cc -O2 painter.c -o painter -lX11 */
#include <X11/Xlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(void) {
  Display* d = XOpenDisplay(NULL);
  if (!d) { fprintf(stderr, "painter: cannot open display\n"); return 1; }
  Window root = DefaultRootWindow(d);
  GC gc = XCreateGC(d, root, 0, NULL);
  XSetSubwindowMode(d, gc, IncludeInferiors);
  XWindowAttributes a;
  XGetWindowAttributes(d, root, &a);
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    unsigned long rgb = strtoul(line, NULL, 16);
    XSetForeground(d, gc, rgb);
    XFillRectangle(d, root, gc, 0, 0, a.width, a.height);
    XSync(d, False);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("%.3f\n", ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
    fflush(stdout);
  }
  XCloseDisplay(d);
  return 0;
}
