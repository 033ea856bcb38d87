import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { fixture, runCli } from './support/cli.ts';

// `list` prices each model call as the export prices its chat span; these tests hold the two
// against each other on the real samples, read from the OTLP/JSON file an export writes.

interface Cost {
  amount: number | null;
  currency: string;
  pricedCalls: number;
  unpricedCalls: number;
  unpricedModels: string[];
}

interface Listed {
  path: string;
  turns: number | null;
  tokens: { total: number } | null;
  cost: Cost | null;
}

interface SpanCosts {
  /** summed over the chat spans */
  amount: number;
  chats: number;
  /** chat spans with usage and no cost */
  unpriced: number;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; doubleValue?: number };
type OtlpSpan = { name: string; attributes: { key: string; value: OtlpValue }[] };

const SOLSMILE = 'solsmile-0.142.5-vscode-abort-rollback.jsonl';
const XEUS = 'xeus-0.129.0-tui-websearch.jsonl';
const SONNET = 'claude-code/entire-cli-2.1.14-sonnet-microcompact-compact.jsonl';

const jsonLines = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

function realSessions(): string[] {
  const top = readdirSync(fixture('.')).filter((f) => f.endsWith('.jsonl')).map((f) => fixture(f));
  const claude = readdirSync(fixture('claude-code')).filter((f) => f.endsWith('.jsonl')).map((f) => fixture(`claude-code/${f}`));
  return [...top, ...claude, fixture('generic/agent-run.jsonl')];
}

/** Exports the files to an OTLP/JSON file and sums the cost on their chat spans, by source file. */
async function spanCosts(files: string[]): Promise<Map<string, SpanCosts>> {
  const out = join(mkdtempSync(join(tmpdir(), 'rollout-otel-cost-')), 'spans.json');
  const run = await runCli(['export', '--quiet', '--out', out, ...files]);
  assert.ok(run.code === 0 || run.code === 4, run.stderr);
  const by = new Map<string, SpanCosts>();
  for (const request of jsonLines(readFileSync(out, 'utf8'))) {
    for (const rs of request.resourceSpans as { scopeSpans: { spans: OtlpSpan[] }[] }[]) {
      for (const span of rs.scopeSpans.flatMap((s) => s.spans)) {
        const a = new Map(span.attributes.map((x) => [x.key, x.value]));
        if (a.get('gen_ai.operation.name')?.stringValue !== 'chat') continue;
        const path = a.get('rollout.source.path')!.stringValue!;
        const c = by.get(path) ?? by.set(path, { amount: 0, chats: 0, unpriced: 0 }).get(path)!;
        c.chats++;
        const amount = a.get('gen_ai.usage.cost.amount')?.doubleValue;
        if (amount !== undefined) {
          assert.equal(a.get('gen_ai.usage.cost.currency')?.stringValue, 'USD');
          c.amount += amount;
        } else if (a.has('gen_ai.usage.input_tokens')) c.unpriced++;
      }
    }
  }
  return by;
}

async function listed(files: string[]): Promise<Listed[]> {
  const run = await runCli(['list', '--json', ...files]);
  assert.equal(run.code, 0, run.stderr);
  return jsonLines(run.stdout) as unknown as Listed[];
}

/** A copy of a fixture with `edit` applied to each line. */
function edited(name: string, edit: (line: string, i: number) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-cost-'));
  const path = join(dir, name.replace(/.*\//, ''));
  writeFileSync(path, readFileSync(fixture(name), 'utf8').split('\n').map(edit).join('\n'));
  return path;
}

describe('list: cost', () => {
  test("each session's cost is the sum of its chat spans' cost, for every real sample (Codex, Claude Code, generic)", async () => {
    const files = realSessions();
    const spans = await spanCosts(files);
    const rows = await listed(files);
    assert.equal(rows.length, files.length);
    let priced = 0;
    for (const row of rows) {
      const s = spans.get(row.path) ?? { amount: 0, chats: 0, unpriced: 0 };
      if (s.chats === 0 || (s.amount === 0 && s.unpriced === 0)) {
        assert.equal(row.cost, null, `${row.path}: nothing recorded usage, nothing to price`);
        continue;
      }
      const c = row.cost!;
      assert.equal(c.currency, 'USD');
      assert.equal(c.unpricedCalls, s.unpriced, row.path);
      // each span's amount is rounded to the millionth of a dollar, the list's sum once
      assert.ok(Math.abs((c.amount ?? 0) - s.amount) <= 0.5e-6 * s.chats + 1e-9, `${row.path}: list ${c.amount}, spans ${s.amount}`);
      if (c.amount !== null) priced++;
    }
    assert.ok(priced >= 15, `priced sessions: ${priced}`);
  });

  test('calls are priced one by one: a long-context tier applies per request, not to the session total', async () => {
    const [row] = await listed([fixture(SONNET)]);
    const s = (await spanCosts([fixture(SONNET)])).get(fixture(SONNET))!;
    // 5.3M tokens in 49 calls: every call is under the 200k tier, the total far above it
    assert.equal(row!.cost!.pricedCalls, 49);
    assert.ok(Math.abs(row!.cost!.amount! - s.amount) < 1e-4);
    assert.ok(row!.cost!.amount! < 4, `${row!.cost!.amount}: the cumulative total priced at once would be $7.88`);
  });

  test('Claude Code transcripts: turns as the export counts them, and tokens (read beyond the first lines)', async () => {
    const files = readdirSync(fixture('claude-code')).filter((f) => f.endsWith('.jsonl')).map((f) => fixture(`claude-code/${f}`));
    const rows = await listed(files);
    const run = await runCli(['export', '--dry-run', '--json', ...files]);
    const exported = jsonLines(run.stdout).filter((o) => o.type === 'session');
    for (const row of rows) {
      const e = exported.find((x) => x.path === row.path)!;
      assert.equal(row.turns, e.turns, row.path);
      assert.ok(row.tokens && row.tokens.total > 0, row.path);
    }
  });

  test('a model the price table does not know: no cost (—), the calls and the model named in --json', async () => {
    const path = edited(XEUS, (l) => l.replaceAll('"model":"gpt-5.5"', '"model":"gpt-unheard-of"'));
    const [row] = await listed([path]);
    assert.deepEqual(row!.cost, { amount: null, currency: 'USD', pricedCalls: 0, unpricedCalls: 1, unpricedModels: ['gpt-unheard-of'] });
    const text = await runCli(['list', path]);
    assert.match(text.stdout, / 34k tokens +— +\//);
  });

  test('partly priced: the priced part, shown as ≥$…, and it is what the priced chat spans carry', async () => {
    // the second turn's model is one the price table does not know
    let contexts = 0;
    const path = edited(SOLSMILE, (l) => (l.includes('"type":"turn_context"') && ++contexts === 2 ? l.replaceAll('"model":"gpt-5.5"', '"model":"gpt-unheard-of"') : l));
    assert.equal(contexts, 2);
    const [row] = await listed([path]);
    const s = (await spanCosts([path])).get(path)!;
    const c = row!.cost!;
    assert.equal(c.pricedCalls, 2);
    assert.equal(c.unpricedCalls, 3);
    assert.deepEqual(c.unpricedModels, ['gpt-unheard-of']);
    assert.ok(Math.abs(c.amount! - s.amount) <= 1e-6);
    const text = await runCli(['list', path]);
    assert.match(text.stdout, / 123k tokens +≥\$0\.1042 +\//);
  });

  test('a session that recorded no usage has no cost, not $0', async () => {
    const [row] = await listed([fixture('acidicsoil-viewer-legacy-2025-09-10.jsonl')]);
    assert.equal(row!.cost, null);
  });
});
