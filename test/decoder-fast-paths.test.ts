import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { CodexDecoder } from '../src/formats/codex/decoder.ts';
import { usableTime } from '../src/formats/time.ts';
import { QUICK_CHECKS } from '../src/formats/codex/schemas.ts';
import { fixture } from './support/cli.ts';

// The decoder's shortcuts must give what the slow way gives: the hand-written checks in front of
// the zod schemas never accept what the schema would reject or change, and line times read
// without Date.parse are Date.parse's.

// a few payloads of each kind from the samples
const seen = new Map<string, number>();
const payloads: unknown[] = readdirSync(fixture(''))
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) => readFileSync(fixture(f), 'utf8').split('\n'))
  .flatMap((l) => {
    let v: { type?: unknown; payload?: { type?: unknown } };
    try {
      v = JSON.parse(l);
    } catch {
      return [];
    }
    const kind = `${String(v.type)}/${String(v.payload?.type)}`;
    seen.set(kind, (seen.get(kind) ?? 0) + 1);
    // one line of each kind, and the session_meta lines of sub-agents (their source is an object)
    const spawned = v.type === 'session_meta' && typeof (v.payload as { source?: unknown } | undefined)?.source === 'object';
    if ((seen.get(kind) ?? 0) > 1 && !spawned) return [];
    return [v.payload ?? v];
  });

const ODD: unknown[] = [undefined, null, '', 'x', '12', ' ', 0, -1, 1.5, 1e400, -1e400, true, false, [], [1], {}, { secs: 1 }, { secs: 1, nanos: 2 }, { secs: '1', nanos: 0 }];
const FEW: unknown[] = [null, 'x', '12', 1e400, 3, true, {}, []];
const FIELDS = [
  'id', 'timestamp', 'session_id', 'parent_thread_id', 'forked_from_id', 'originator', 'cli_version', 'model_provider', 'agent_nickname',
  'agent_role', 'agent_type', 'agent_path', 'history_mode', 'subagent_history_start_ordinal', 'git', 'commit_hash', 'branch',
  'repository_url', 'depth', 'query', 'started_at_ms', 'item', 'type', 'replacement_history', 'window_number', 'invocation', 'server', 'tool', 'action',
  'info', 'total_token_usage', 'last_token_usage', 'input_tokens', 'cached_input_tokens', 'output_tokens', 'reasoning_output_tokens',
  'cache_write_input_tokens', 'total_tokens', 'name', 'namespace', 'call_id', 'output', 'role', 'content', 'turn_id', 'model', 'cwd',
  'effort', 'exit_code', 'duration', 'status', 'completed_at_ms', 'success', 'started_at', 'root_turn_id', 'reason', 'error', 'message',
  'completed_at', 'duration_ms', 'kind', 'secs', 'nanos',
];

/** Every payload, and copies with one field (its own or a schema's, up to two levels down) replaced by an odd value. */
function* variants(): Generator<unknown> {
  yield* ODD;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  function* mutate(obj: Record<string, unknown>, depth: number): Generator<Record<string, unknown>> {
    for (const f of Object.keys(obj)) for (const odd of ODD) yield { ...obj, [f]: odd };
    // fields a schema knows but this payload lacks: a few values of each kind
    if (depth === 0) for (const f of FIELDS) if (!(f in obj)) for (const odd of FEW) yield { ...obj, [f]: odd };
    if (depth >= 2) return;
    for (const [k, inner] of Object.entries(obj)) {
      if (isObj(inner)) for (const m of mutate(inner, depth + 1)) yield { ...obj, [k]: m };
    }
  }
  function* nested(v: unknown): Generator<Record<string, unknown>> {
    if (Array.isArray(v)) for (const x of v) yield* nested(x);
    else if (isObj(v)) {
      yield v;
      for (const x of Object.values(v)) yield* nested(x);
    }
  }
  for (const p of payloads) {
    yield p;
    if (!isObj(p)) continue;
    yield* mutate(p, 0);
    // objects inside payloads, and their variants: what nested schemas (spawn source, durations) see
    for (const inner of nested(p)) if (inner !== p) yield* mutate(inner, 1);
  }
}

describe('quick checks', () => {
  test('accept only what their schema accepts unchanged', () => {
    let accepted = 0;
    let deferred = 0;
    for (const v of variants()) {
      for (const [schema, quick] of QUICK_CHECKS) {
        const q = quick(v);
        if (q === undefined) {
          deferred++;
          continue;
        }
        accepted++;
        assert.equal(q, v);
        const r = schema.zodSafeParse(v);
        assert.ok(r.success, `schema rejects what the quick check accepted: ${JSON.stringify(v).slice(0, 300)}`);
        assert.deepEqual(r.data, v, `schema changes what the quick check accepted: ${JSON.stringify(v).slice(0, 300)}`);
      }
    }
    assert.ok(accepted > 1000 && deferred > 1000, `${accepted} accepted, ${deferred} deferred`);
  });
});

describe('line times', () => {
  function timeOf(ts: string): number | undefined {
    const d = new CodexDecoder();
    d.decode({ timestamp: '2025-01-01T00:00:00.000Z', type: 'session_meta', payload: { id: 'x', timestamp: '2025-01-01T00:00:00.000Z' } }, 1);
    const out = d.decode({ timestamp: ts, type: 'event_msg', payload: { type: 'context_compacted' } }, 2);
    return out.warning ? undefined : (out.events[0] as { time: number }).time;
  }

  test('are what Date.parse reads, for well-formed and malformed timestamps, within what OTLP can carry', () => {
    let seed = 7;
    const r = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const stamps = [
      '2025-02-30T00:00:00.000Z', '2024-02-29T23:59:59.999Z', '2025-13-01T00:00:00.000Z', '2025-01-01T24:00:00.000Z',
      '2025-01-01T24:00:01.000Z', '2025-01-01T23:60:00.000Z', '2025-01-01T23:59:60.000Z', '0000-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z', '2025-01-01T00:00:00.000z', '2025-01-01 00:00:00.000Z', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00.0000Z',
    ];
    for (let i = 0; i < 20000; i++) {
      const iso = new Date(Math.floor(r() * 4e12 - 1e12)).toISOString();
      stamps.push(iso);
      const chars = iso.split('');
      chars[Math.floor(r() * chars.length)] = '0123456789x:.-TZ '[Math.floor(r() * 17)] as string;
      stamps.push(chars.join(''));
    }
    for (const ts of stamps) {
      const want = usableTime(Date.parse(ts));
      assert.equal(timeOf(ts), Number.isNaN(want) ? undefined : want, ts);
    }
  });
});
