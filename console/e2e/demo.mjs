// Starts `baixa demo` on a free loopback port and waits for its data:
// the console's browser tests and screenshots run against it.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export const artifacts = new URL('./artifacts/', import.meta.url).pathname;
mkdirSync(artifacts, { recursive: true });

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// startDemo runs the binary (BAIXA_BIN, else `go run ./cmd/baixa` from the
// repository's root) and resolves with its base URL, its API key and a
// stop function, once the demo has played its day.
export function startDemo() {
  const root = new URL('../../', import.meta.url).pathname;
  const bin = process.env.BAIXA_BIN;
  const args = ['demo', '--listen', '127.0.0.1:0'];
  const child = bin
    ? spawn(bin, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('go', ['run', './cmd/baixa', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error('the demo did not finish in 180 s:\n' + out)); }, 180_000);
    child.stderr.on('data', (b) => { out += b; });
    child.stdout.on('data', (b) => {
      out += b;
      const base = /baixa on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      const key = /\(key: (bx_demo_[0-9a-f]+)\)/.exec(out);
      if (base && key && out.includes('Ctrl-C stops it.')) {
        clearTimeout(timer);
        resolve({
          base: base[1], key: key[1], output: () => out,
          stop: () => new Promise((done) => { child.once('exit', done); child.kill('SIGINT'); }),
        });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the demo exited (${code}):\n${out}`)); });
  });
}
