#!/usr/bin/env node
// npm run jaeger:prepare — makes the Jaeger binary the end-to-end tests use, once:
// scripts/build-jaeger.sh with its progress shown (a cold build takes many minutes), then
// cached under .cache/jaeger/ where the tests find it. Prints the binary's path on stdout.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tty = process.stderr.isTTY;
const started = Date.now();
const elapsed = () => {
  const s = Math.round((Date.now() - started) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};
let packages = 0;
let downloads = 0;
let statusShown = false;

const say = (line) => {
  if (statusShown) process.stderr.write('\r\x1b[K');
  statusShown = false;
  process.stderr.write(`${line}\n`);
};
const status = () => `jaeger:prepare: ${elapsed()}, ${downloads} modules downloaded, ${packages} packages compiled`;

const child = spawn('bash', [join(root, 'scripts/build-jaeger.sh')], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -v`.trim() },
});
let path = '';
child.stdout.on('data', (d) => (path += d));
let rest = '';
child.stderr.on('data', (d) => {
  const lines = (rest + d).split('\n');
  rest = lines.pop() ?? '';
  for (const line of lines) {
    if (line.startsWith('go: downloading')) downloads++;
    else if (/^[\w.-]+(\/[\w.@~+-]+)+$/.test(line.trim()) || /^[\w-]+$/.test(line.trim())) packages++;
    else if (line.trim()) say(line);
  }
  if (tty) {
    process.stderr.write(`\r\x1b[K${status()}`);
    statusShown = true;
  }
});
// off a terminal (CI logs) a line every 30 s, so a long build is never silent
const ticker = tty ? undefined : setInterval(() => say(status()), 30_000);
child.on('error', (err) => {
  say(`jaeger:prepare: cannot run scripts/build-jaeger.sh: ${err.message}`);
  process.exit(1);
});
child.on('close', (code) => {
  clearInterval(ticker);
  if (rest.trim()) say(rest);
  const bin = path.trim().split('\n').pop();
  if (code !== 0 || !bin) {
    say(`jaeger:prepare: failed after ${elapsed()} (exit code ${code}); the Jaeger tests will skip and say so`);
    process.exit(1);
  }
  say(`jaeger:prepare: ready after ${elapsed()}${packages ? ` (${packages} packages compiled)` : ''}: ${bin}`);
  process.stdout.write(`${bin}\n`);
});
