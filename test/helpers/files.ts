import { readFileSync } from 'node:fs';

/**
 * The text of `file` once it holds at least `length` characters (a terminal running
 * `cat > file` writes as lines arrive), or whatever it holds when `timeoutMs` runs out.
 */
export async function readWhenLength(file: string, length: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = readFileSync(file, { encoding: 'utf8', flag: 'a+' });
  while (text.length < length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    text = readFileSync(file, { encoding: 'utf8', flag: 'a+' });
  }
  return text;
}
