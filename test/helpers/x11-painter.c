/* A long-lived X painter for benchmarks. Default: reads "RRGGBB" lines on stdin, fills the root
 * window with that colour, waits for the server (XSync), then prints the CLOCK_REALTIME time in
 * ms at which the paint was done (no process start per paint: the paint instant is known to
 * well under a millisecond). `painter scroll FPS`: full-screen motion instead: FPS times a
 * second the whole screen scrolls up 8 rows and a new row of random 8x8 blocks appears at the
 * bottom (textured content that changes everywhere, like fast scrolling). `painter tick HZ`:
 * a 16x16 block in the bottom-right corner changes colour HZ times a second (tests: keeps a
 * change-driven capture at its full frame rate at almost no cost).
 * Build: cc -O2 painter.c -o painter -lX11 */
#include <X11/Xlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void scroll(Display* d, Window root, GC gc, int w, int h, int fps) {
  unsigned seed = 1;
  for (;;) {
    XCopyArea(d, root, root, gc, 0, 8, w, h - 8, 0, 0);
    for (int x = 0; x < w; x += 8) {
      seed = seed * 1103515245u + 12345u;
      XSetForeground(d, gc, seed >> 8 & 0xffffff);
      XFillRectangle(d, root, gc, x, h - 8, 8, 8);
    }
    XSync(d, False);
    usleep(1000000 / fps);
  }
}

static void tick(Display* d, Window root, GC gc, int w, int h, int hz) {
  for (unsigned long n = 0;; n++) {
    XSetForeground(d, gc, n & 1 ? 0x406080 : 0x608040);
    XFillRectangle(d, root, gc, w - 16, h - 16, 16, 16);
    XSync(d, False);
    usleep(1000000 / hz);
  }
}

int main(int argc, char** argv) {
  Display* d = XOpenDisplay(NULL);
  if (!d) { fprintf(stderr, "painter: cannot open display\n"); return 1; }
  Window root = DefaultRootWindow(d);
  GC gc = XCreateGC(d, root, 0, NULL);
  XSetSubwindowMode(d, gc, IncludeInferiors);
  XWindowAttributes a;
  XGetWindowAttributes(d, root, &a);
  if (argc >= 3 && strcmp(argv[1], "scroll") == 0) scroll(d, root, gc, a.width, a.height, atoi(argv[2]));
  if (argc >= 3 && strcmp(argv[1], "tick") == 0) tick(d, root, gc, a.width, a.height, atoi(argv[2]));
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
