// One load-generator process for bench/load.bench.ts: connects COUNT real WebRTC receivers
// (test/helpers/rtcReceiver.ts: ICE + DTLS-SRTP, RTP counted, nothing decoded), prints
// {"ready": n, "failed": n, "error": "…"} once they are up, then a stats line
// {"receivers": [{packets, lost, frames, bytes}, …]} for every "sample" line on stdin.
// Usage: tsx bench/loadGenerator.ts ORIGIN TOKEN COUNT NAME
import { createInterface } from 'node:readline';
import { connectReceiver, type RtcReceiver } from '../test/helpers/rtcReceiver.js';

const [origin, token, countArg, name] = process.argv.slice(2);
if (!origin || !token || !countArg) {
  process.stderr.write('usage: tsx bench/loadGenerator.ts ORIGIN TOKEN COUNT NAME\n');
  process.exit(2);
}
const receivers: RtcReceiver[] = [];
let failed = 0;
let error = '';
const count = Number(countArg);
// A few at a time: DTLS handshakes are CPU-heavy on both sides.
for (let i = 0; i < count; i += 5) {
  const batch = await Promise.allSettled(Array.from({ length: Math.min(5, count - i) }, (_, k) => connectReceiver(origin, token, { name: `${name}-${i + k}`, timeoutMs: 30_000 })));
  for (const r of batch) {
    if (r.status === 'fulfilled') receivers.push(r.value);
    else {
      failed++;
      error = (r.reason as Error).message;
    }
  }
}
process.stdout.write(`${JSON.stringify({ ready: receivers.length, failed, error })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'sample') process.stdout.write(`${JSON.stringify({ receivers: receivers.map((r) => r.stats()) })}\n`);
  if (line === 'quit') {
    for (const r of receivers) r.close();
    process.exit(0);
  }
});
