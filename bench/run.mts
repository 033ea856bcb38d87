// npm run bench [-- --mb 800] [-- --only export|list|watch] [-- --files 10000 --idle-seconds 60]
// Builds a large sessions tree from the real samples, then measures in one run:
//   baseline: read every line and JSON.parse it (plain code, not the project's reader);
//   export:   the real CLI (bin/rollout-otel.js) exporting the tree to a local OTLP/HTTP receiver (protobuf);
//   list:     the real CLI listing the same tree (turns, tokens, cost), a few times over;
//   watch:    the real CLI following a history of finished sessions: the time to read it, then its
//             CPU and memory while nothing changes, then how soon a new turn arrives.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
// Over a thousand files by default: a whole sessions tree of thousands of files is the normal case.
const targetMb = Number(arg('mb', '800'));
const out = join(ROOT, 'bench', 'out', 'sessions');

function buildTree(): { files: number; bytes: number } {
  const marker = join(ROOT, 'bench', 'out', `built-${targetMb}`);
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8'));
  rmSync(join(ROOT, 'bench', 'out'), { recursive: true, force: true });
  const fixtures = join(ROOT, 'test', 'fixtures');
  const samples = readdirSync(fixtures).filter((f) => f.endsWith('.jsonl') && !f.startsWith('jazzyalex')).map((f) => readFileSync(join(fixtures, f), 'utf8'));
  let bytes = 0;
  let files = 0;
  for (let copy = 0; bytes < targetMb * 1024 * 1024; copy++) {
    for (const text of samples) {
      const id = JSON.parse(text.slice(0, text.indexOf('\n'))).payload?.id ?? JSON.parse(text.slice(0, text.indexOf('\n'))).id;
      const fresh = randomUUID();
      const day = join(out, '2026', String(1 + (copy % 12)).padStart(2, '0'), String(1 + (files % 28)).padStart(2, '0'));
      mkdirSync(day, { recursive: true });
      const body = text.split(id).join(fresh);
      writeFileSync(join(day, `rollout-2026-01-01T00-00-00-${fresh}.jsonl`), body);
      bytes += Buffer.byteLength(body);
      files++;
    }
  }
  const built = { files, bytes };
  writeFileSync(marker, JSON.stringify(built));
  return built;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

// Plain reading and parsing, independent of the project's own line reader: each file read whole
// (synchronously, the cheapest way), split at newlines, each line decoded and given to JSON.parse.
function baseline(files: string[]): { seconds: number; cpuSeconds: number; lines: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let lines = 0;
  for (const f of files) {
    const buf = readFileSync(f);
    let start = 0;
    while (start < buf.length) {
      let nl = buf.indexOf(10, start);
      if (nl === -1) nl = buf.length;
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      if (end > start) JSON.parse(buf.toString('utf8', start, end));
      lines++;
      start = nl + 1;
    }
  }
  const c = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6, lines };
}

// The same, the way a short Node script usually reads JSONL: a stream per file through readline.
async function streamedBaseline(files: string[]): Promise<{ seconds: number; cpuSeconds: number; lines: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let lines = 0;
  for (const f of files) {
    for await (const line of createInterface({ input: createReadStream(f), crlfDelay: Infinity })) {
      if (line) JSON.parse(line);
      lines++;
    }
  }
  const c = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6, lines };
}

async function exportRun(endpoint: string): Promise<{ seconds: number; cpuSeconds: number; spans: number; maxRssMb: number; code: number; stderr: string }> {
  // the real command line (bin/rollout-otel.js), with this process's peak memory and CPU told at exit
  const script = `process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('MAXRSS ' + u.maxRSS + ' CPU ' + (u.userCPUTime + u.systemCPUTime) + '\\n'); }); import('${join(ROOT, 'bin/rollout-otel.js')}');`;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script, 'rollout-otel', 'export', out, '--quiet', '--no-progress'], {
      // a delivery ledger of its own, so that every run sends the whole tree (and writes its ledger, as an export does)
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'rollout-otel-bench-state-')) },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      const spans = Number(/delivered ([\d,]+) spans/.exec(stderr)?.[1]?.replace(/,/g, '') ?? 0);
      const maxRssMb = Number(/MAXRSS (\d+)/.exec(stderr)?.[1] ?? 0) / 1024;
      const cpuSeconds = Number(/CPU (\d+)/.exec(stderr)?.[1] ?? 0) / 1e6;
      resolve({ seconds, cpuSeconds, spans, maxRssMb, code: code ?? -1, stderr });
    });
  });
}

async function main() {
  const only = arg('only', '');
  if (!only || only === 'export') await exportBench();
  if (!only || only === 'list') await listBench();
  if (!only || only === 'watch') await watchBench();
}

async function exportBench() {
  const built = buildTree();
  const files = listFiles(out);
  const mb = files.reduce((a, f) => a + statSync(f).size, 0) / 1024 / 1024;
  console.log(`tree: ${files.length} files, ${mb.toFixed(0)} MB (${out})`);

  // A receiver that only drains requests: the bench measures the exporter, not a decoder.
  let received = 0;
  let requests = 0;
  const server = createServer((req, res) => {
    req.on('data', (d: Buffer) => (received += d.length));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const base = baseline(files);
  const streamed = await streamedBaseline(files);
  const run = await exportRun(endpoint);
  server.close();
  if (run.code !== 0) {
    console.error(run.stderr);
    throw new Error(`export exited ${run.code}`);
  }
  const baseMbs = mb / base.seconds;
  const exportMbs = mb / run.seconds;
  const rows = [
    ['baseline (read + JSON.parse)', `${base.seconds.toFixed(1)} s`, `${baseMbs.toFixed(1)} MB/s`, `${base.lines.toLocaleString('en-US')} lines`],
    ['baseline, streamed (readline)', `${streamed.seconds.toFixed(1)} s`, `${(mb / streamed.seconds).toFixed(1)} MB/s`, `${streamed.lines.toLocaleString('en-US')} lines`],
    ['rollout-otel export → OTLP', `${run.seconds.toFixed(1)} s`, `${exportMbs.toFixed(1)} MB/s`, `${run.spans.toLocaleString('en-US')} spans, ${(run.spans / run.seconds).toFixed(0)} spans/s`],
  ];
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(i === 0 ? 32 : 14)).join(' '));
  console.log(`requests: ${requests}, ${(received / 1024 / 1024).toFixed(1)} MB of protobuf received`);
  console.log(`speed vs baseline: ${((exportMbs / baseMbs) * 100).toFixed(0)}% of whole-file reading, ${((base.seconds > 0 ? streamed.seconds / run.seconds : 0) * 100).toFixed(0)}% of streamed reading (target ≥ 50%)`);
  console.log(`CPU time: baseline ${base.cpuSeconds.toFixed(1)} s, export ${run.cpuSeconds.toFixed(1)} s (${((base.cpuSeconds / run.cpuSeconds) * 100).toFixed(0)}% by CPU)`);
  console.log(`peak RSS of the export process: ${run.maxRssMb.toFixed(0)} MB (target < 200 MB)`);
  console.log(`built with ${built.files} files`);
}

async function listBench() {
  const built = buildTree();
  const runs: { seconds: number; maxRssMb: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const script = `process.on('exit', () => process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n')); import('${join(ROOT, 'bin/rollout-otel.js')}');`;
    const t0 = performance.now();
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['-e', script, 'rollout-otel', 'list', out, '--quiet', '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (c) => resolve({ code: c ?? -1, stderr: err }));
    });
    if (code !== 0) throw new Error(`list exited ${code}: ${stderr}`);
    runs.push({ seconds: (performance.now() - t0) / 1000, maxRssMb: Number(/MAXRSS (\d+)/.exec(stderr)?.[1] ?? 0) / 1024 });
  }
  const s = runs.map((r) => r.seconds).sort((a, b) => a - b);
  console.log(`rollout-otel list: ${built.files} files, ${(built.bytes / 1024 / 1024).toFixed(0)} MB: ${s.map((x) => x.toFixed(2)).join(', ')} s (median ${s[2]!.toFixed(2)} s), peak RSS ${Math.max(...runs.map((r) => r.maxRssMb)).toFixed(0)} MB`);
}

/** A receiver that only counts requests and bytes: the bench measures the CLI, not a decoder. */
async function drain(): Promise<{ url: string; requests: () => number; close: () => void }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, close: () => server.close() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMbOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

async function watchBench() {
  const count = Number(arg('files', '10000'));
  const idleSeconds = Number(arg('idle-seconds', '60'));
  const root = join(ROOT, 'bench', 'out', `watch-${count}`);
  const sessions = join(root, 'sessions');
  const sample = readFileSync(join(ROOT, 'test', 'fixtures', 'localpush-sanitized-0.104-small.jsonl'), 'utf8');
  const sampleId = JSON.parse(sample.slice(0, sample.indexOf('\n'))).payload.id as string;
  // one whole turn of the sample, from its task_started to its task_complete, to append under a new turn id
  const turn = sample.slice(sample.indexOf('{"timestamp"', sample.indexOf('"task_started"') - 80));
  const turnId = /"turn_id":"([^"]+)"/.exec(turn)![1]!;
  const write = (i: number, id: string) => {
    const day = join(sessions, '2025', String(1 + (i % 12)).padStart(2, '0'), String(1 + (Math.floor(i / 12) % 28)).padStart(2, '0'));
    mkdirSync(day, { recursive: true });
    const file = join(day, `rollout-2025-01-01T00-00-00-${id}.jsonl`);
    writeFileSync(file, sample.split(sampleId).join(id));
    return file;
  };
  rmSync(root, { recursive: true, force: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) files.push(write(i, randomUUID()));
  // finished long ago: a day without a write
  const old = new Date(Date.now() - 86_400_000);
  for (const f of files) utimesSync(f, old, old);

  const receiver = await drain();
  const start = () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/rollout-otel.js'), 'watch', sessions, '--idle-timeout', '10m', '--state', join(root, 'state')], {
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    });
    const w = { child, stderr: '' };
    child.stderr.on('data', (d) => (w.stderr += d));
    return w;
  };
  const until = async (w: ReturnType<typeof start>, what: string, check: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline || w.child.exitCode !== null) throw new Error(`watch bench: timed out waiting for ${what}\n${w.stderr.slice(-2000)}`);
      await sleep(20);
    }
  };
  const stop = async (w: ReturnType<typeof start>) => {
    w.child.kill('SIGTERM');
    if (w.child.exitCode === null) await new Promise((r) => w.child.on('close', r));
  };
  /** CPU used and RSS seen every 5 s over `seconds` of nothing happening. */
  const idle = async (pid: number, seconds: number) => {
    const cpu0 = cpuOf(pid);
    const rss: number[] = [];
    for (let s = 0; s < seconds; s += 5) {
      rss.push(rssMbOf(pid));
      await sleep(5000);
    }
    rss.push(rssMbOf(pid));
    return { cpu: cpuOf(pid) - cpu0, rss };
  };
  const say = (what: string, r: { cpu: number; rss: number[] }) => {
    console.log(`  ${what}, idle for ${idleSeconds} s: ${(r.cpu * 1000).toFixed(0)} ms CPU = ${((r.cpu / idleSeconds) * 100).toFixed(3)} % of a core (target ≤ 0.1 %)`);
    console.log(`    RSS every 5 s: ${r.rss.map((x) => x.toFixed(0)).join(', ')} MB (target: flat)`);
  };

  let w = start();
  const t0 = performance.now();
  try {
    await until(w, 'the history to be read', () => /read the \d+ files not yet delivered/.test(w.stderr), 30 * 60_000);
    const catchUp = (performance.now() - t0) / 1000;
    const catchUpCpu = cpuOf(w.child.pid!);
    await sleep(2000); // the last deliveries settle
    const spans = [...w.stderr.matchAll(/delivered (\d+) spans?/g)].reduce((a, m) => a + Number(m[1]), 0);
    const afterRead = await idle(w.child.pid!, idleSeconds);

    // a new session's file appears in one day directory
    let before = receiver.requests();
    let t = performance.now();
    write(0, randomUUID());
    await until(w, 'a new session to arrive', () => receiver.requests() > before, 60_000);
    const newFile = (performance.now() - t) / 1000;
    // a finished session resumed: one more turn appended
    await sleep(1000);
    before = receiver.requests();
    t = performance.now();
    appendFileSync(files[count >> 1]!, turn.split(turnId).join(randomUUID()));
    await until(w, 'an appended turn to arrive', () => receiver.requests() > before, 60_000);
    const appended = (performance.now() - t) / 1000;
    await stop(w);

    // the daemon started again (a login, a reboot) on a history it has delivered
    for (const f of files) utimesSync(f, old, old);
    w = start();
    await until(w, 'the restart to list the tree', () => /following \d+ rollout files/.test(w.stderr), 120_000);
    // V8 gives back the heap of the start-up some 20-30 s after it: a one-off, left out of the steady state
    await sleep(40_000);
    const restarted = await idle(w.child.pid!, idleSeconds);

    console.log(`watch: ${count.toLocaleString('en-US')} finished files in ${Math.min(count, 336)} day directories`);
    console.log(`  first read of the history: ${catchUp.toFixed(1)} s, ${catchUpCpu.toFixed(1)} s CPU, ${spans.toLocaleString('en-US')} spans delivered`);
    say('right after the first read (the heap is still being given back)', afterRead);
    say('started again on the delivered history, 40 s after the start', restarted);
    console.log(`  latency: a new session file ${(newFile * 1000).toFixed(0)} ms, a turn appended to a finished session ${(appended * 1000).toFixed(0)} ms (target ≤ 1 s)`);
  } finally {
    await stop(w);
    receiver.close();
  }
}

await main();
