// Any value of any line, nested 10,000 levels deep, must not overflow the stack anywhere between
// decoding and delivery: every field of real files of each dialect is replaced in turn (one field
// kind per file, in every line that has it), with and without captured content.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { exportFile } from '../src/index.ts';
import { fixture } from './support/cli.ts';
import { startReceiver, type Receiver } from './support/otlp-receiver.ts';

const LEVELS = 10_000;
const DEEP = '{"a":'.repeat(LEVELS) + '"leaf"' + '}'.repeat(LEVELS);
// JSON.stringify cannot write such a value either: a marker is written, then replaced by the text.
const MARK = '\u0000deep\u0000';
const withDeep = (value: unknown): string => JSON.stringify(value).replace(JSON.stringify(MARK), DEEP);

/** Where a field sits: the kind of line it is in and the keys down to it. */
function kindOf(line: unknown): string {
  const v = line as { type?: unknown; payload?: { type?: unknown }; message?: { role?: unknown } };
  return `${String(v?.type)}/${String(v?.payload?.type ?? v?.message?.role ?? '')}`;
}

function pathsOf(value: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (prefix.length > 0) out.push(prefix);
  if (value === null || typeof value !== 'object' || prefix.length >= 6) return out;
  const entries = Array.isArray(value) ? value.slice(0, 3).map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [k, v] of entries) pathsOf(v, [...prefix, k], out);
  return out;
}

function replaced(value: unknown, path: string[]): boolean {
  let at = value as Record<string, unknown>;
  for (const k of path.slice(0, -1)) {
    const next = at?.[k];
    if (next === null || typeof next !== 'object') return false;
    at = next as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (!(last in at)) return false;
  at[last] = MARK;
  return true;
}

/**
 * Texts that together put every field deep once. A field near the top of a line (its type, its
 * payload) may make the line unrecognisable, so each gets a text of its own. Deeper fields are
 * combined: the n-th text makes the n-th deeper field of each line kind deep, in every line of that
 * kind, so one field cannot hide another. `whole`: the texts in which every line must still decode.
 */
function variants(text: string, maxLines = 40): { text: string; whole: boolean }[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '').slice(0, maxLines);
  const parsed = lines.map((l) => JSON.parse(l) as unknown);
  const fields = new Map<string, Map<string, string[]>>();
  for (const v of parsed) {
    const kind = fields.get(kindOf(v)) ?? new Map<string, string[]>();
    fields.set(kindOf(v), kind);
    for (const path of pathsOf(v)) kind.set(path.join('.'), path);
  }
  const textOf = (deepIn: (kind: string) => string[] | undefined) => parsed.map((v, i) => {
    const path = deepIn(kindOf(v));
    const copy = JSON.parse(lines[i]!) as unknown;
    return path && replaced(copy, path) ? withDeep(copy) : lines[i];
  }).join('\n') + '\n';
  const top = [...fields].flatMap(([kind, paths]) => [...paths.values()].filter((p) => p.length <= 2).map((path) => ({ kind, path })));
  const deeper = new Map([...fields].map(([kind, paths]) => [kind, [...paths.values()].filter((p) => p.length > 2)]));
  const count = Math.max(...[...deeper.values()].map((p) => p.length));
  return [
    ...top.map(({ kind, path }) => ({ text: textOf((k) => (k === kind ? path : undefined)), whole: false })),
    ...Array.from({ length: count }, (_, n) => ({ text: textOf((k) => deeper.get(k)![n]), whole: true })),
  ];
}

/** The same for one JSON document: the n-th text makes its n-th field deep. */
function documentVariants(text: string): string[] {
  const value = JSON.parse(text) as unknown;
  return pathsOf(value).map((path) => {
    const copy = structuredClone(value);
    replaced(copy, path);
    return withDeep(copy);
  });
}

describe('values nested 10,000 levels deep in any field', () => {
  let receiver: Receiver;
  let dir: string;
  beforeAll(async () => {
    receiver = await startReceiver();
    dir = mkdtempSync(join(tmpdir(), 'rollout-otel-deep-'));
  });
  afterAll(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Exports `path` with and without content: nothing overflows, and unless `whole` is false every line decodes. */
  async function exportsWhole(path: string, name: string, whole = true): Promise<void> {
    for (const captureContent of [false, true]) {
      const before = receiver.spans().length;
      const r = await exportFile(path, { endpoint: receiver.url, captureContent });
      const said = [r.error, ...r.samples.map((w) => w.message)].join('\n');
      assert.doesNotMatch(said, /call stack/i, `${name} (content ${captureContent})`);
      assert.equal(r.notDelivered, 0, name);
      if (!whole && r.error) continue;
      assert.equal(r.error, undefined, `${name} (content ${captureContent}): ${r.error}`);
      assert.ok(receiver.spans().length - before > 0, `${name} (content ${captureContent}): no span`);
    }
  }

  const files = [
    fixture('localpush-sanitized-0.104-small.jsonl'),
    fixture('xeus-0.129.0-tui-websearch.jsonl'),
    fixture('generic/agent-run.jsonl'),
    fixture('claude-code/entire-cli-2.1.12-mcp-linear-progress.jsonl'),
  ];
  for (const file of files) {
    test(`${file.split('/').slice(-1)[0]}: every field, every span delivered`, { timeout: 180_000 }, async () => {
      const all = variants(readFileSync(file, 'utf8'));
      assert.ok(all.filter((v) => v.whole).length > 5, `only ${all.length} texts`);
      for (const [i, { text, whole }] of all.entries()) {
        const path = join(dir, `${i}-${file.split('/').slice(-1)[0]}`);
        writeFileSync(path, text);
        await exportsWhole(path, `text ${i}`, whole);
        rmSync(path);
      }
    });
  }

  test('a bundle: every field of its event log and of its payloads', { timeout: 180_000 }, async () => {
    const src = fixture('bundles/trace-7f0c1e2a-3b4d-4c5e-8f60-718293a4b5c6-019e1a2b-0000-7000-8000-00000000a001');
    const log = variants(readFileSync(join(src, 'trace.jsonl'), 'utf8'));
    const payloads = readdirSync(join(src, 'payloads')).map((p) => ({ file: join('payloads', p), texts: documentVariants(readFileSync(join(src, 'payloads', p), 'utf8')) }));
    const count = Math.max(log.length, ...payloads.map((p) => p.texts.length));
    assert.ok(count > 10, `only ${count} fields`);
    // a payload's fields are combined across payloads: a bad payload is a warning, not an error
    for (let i = 0; i < count; i++) {
      const copy = join(dir, `b${i}`, src.split('/').slice(-1)[0]!);
      cpSync(src, copy, { recursive: true });
      if (log[i]) writeFileSync(join(copy, 'trace.jsonl'), log[i]!.text);
      for (const p of payloads) if (p.texts[i]) writeFileSync(join(copy, p.file), p.texts[i]!);
      await exportsWhole(copy, `text ${i} of the log and of each payload`, log[i]?.whole ?? true);
      rmSync(join(dir, `b${i}`), { recursive: true });
    }
  });
});
