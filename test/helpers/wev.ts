// Reads wev's log (a Wayland client that prints every event it receives): where the pointer was,
// in surface coordinates, when each left button went down. Empty `frame` lines (a repeated move to
// the same spot) may come between a motion and its button, so positions are tracked, not matched.
export function leftPressPositions(log: string): [number, number][] {
  const presses: [number, number][] = [];
  let at: [number, number] | undefined;
  for (const line of log.split('\n')) {
    const position = /wl_pointer\] (?:enter|motion):.*x, y: (-?[\d.]+), (-?[\d.]+)/.exec(line);
    if (position) at = [Number(position[1]), Number(position[2])];
    else if (/wl_pointer\] button: .*button: 272 \(left\), state: 1 \(pressed\)/.test(line) && at) presses.push(at);
  }
  return presses;
}
