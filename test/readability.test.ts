// What a person reading the trace needs to see, checked on real rollouts exported to a real OTLP
// receiver: what each tool did, how long it really ran, what failed, which session it is, what it cost.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { fixture, runCli, type CliResult } from './support/cli.ts';
import { startReceiver, type Receiver, type ReceivedSpan } from './support/otlp-receiver.ts';
import { calcPrice } from '@pydantic/genai-prices';
import { priceOf } from '../src/otel/cost.ts';
import { executableOf } from '../src/formats/codex/tool-summary.ts';

const SOULPASS = fixture('soulpass-0.122.0-tui-compaction-aborts.jsonl');
const RAVE = fixture('rave-era-0.125.0-tui-windows-apply-patch.jsonl');
const XEUS = fixture('xeus-0.129.0-tui-websearch.jsonl');
const ACIDIC = fixture('acidicsoil-codex-session-view__rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl');
const LEGACY = fixture('acidicsoil-viewer-legacy-2025-09-10.jsonl');
const JAZZY = fixture('jazzyalex-agent-sessions__stage0-agents-codex-small.jsonl');
const ALL = [SOULPASS, RAVE, XEUS, ACIDIC, LEGACY, JAZZY, fixture('edgerunner-0.144.1-tui-codemode-abort.jsonl'), fixture('localpush-sanitized-0.104-compaction.jsonl')];

interface Line {
  time: number;
  payload: Record<string, unknown>;
}

function lines(path: string): Line[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { timestamp: string; payload: Record<string, unknown> })
    .map((o) => ({ time: Date.parse(o.timestamp), payload: o.payload }));
}

const ms = (ns: bigint) => Number(ns) / 1e6;
const of = (spans: ReceivedSpan[], path: string) => spans.filter((s) => s.attributes['rollout.source.path'] === path);
const tools = (spans: ReceivedSpan[]) => spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool');
const byCall = (spans: ReceivedSpan[], id: string) => tools(spans).find((s) => s.attributes['gen_ai.tool.call.id'] === id);

async function exportTo(receiver: Receiver, args: string[]): Promise<{ run: CliResult; spans: ReceivedSpan[] }> {
  const before = receiver.spans().length;
  const run = await runCli(['export', '--no-progress', ...args], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
  return { run, spans: receiver.spans().slice(before) };
}

describe('readable traces of real rollouts', () => {
  let receiver: Receiver;
  let plain: { run: CliResult; spans: ReceivedSpan[] };
  let content: { run: CliResult; spans: ReceivedSpan[] };

  beforeAll(async () => {
    receiver = await startReceiver();
    plain = await exportTo(receiver, ALL);
    content = await exportTo(receiver, ['--capture-content', SOULPASS, XEUS, ACIDIC]);
  });
  afterAll(() => receiver.close());

  test('the exports succeed', () => {
    // 4: the trimmed fixture compendium has lines without times (warned about), all else delivered
    assert.equal(plain.run.code, 4, plain.run.stderr);
    assert.match(plain.run.stderr, /no token counts recorded/);
    assert.equal(content.run.code, 0, content.run.stderr);
  });

  test('every command row names its program and Codex\'s kind of command, without the command line', () => {
    const ends = lines(SOULPASS).filter((l) => l.payload.type === 'exec_command_end');
    assert.ok(ends.length > 50);
    for (const e of ends) {
      const span = byCall(of(plain.spans, SOULPASS), String(e.payload.call_id));
      assert.ok(span, String(e.payload.call_id));
      const script = (e.payload.command as string[])[2] as string;
      const program = script.trim().split(/\s+/)[0]!.split('/').pop();
      const kinds = [...new Set((e.payload.parsed_cmd as { type: string }[]).map((p) => p.type))].join(',');
      assert.equal(span.attributes['process.executable.name'], program, script);
      assert.equal(span.attributes['codex.command.kind'], kinds);
      assert.equal(span.name, `execute_tool exec_command · ${program}`);
      assert.equal(span.attributes['process.command_line'], undefined, 'the command line is content');
    }
    const withContent = byCall(of(content.spans, SOULPASS), String(ends[0]!.payload.call_id));
    assert.equal(withContent?.attributes['process.command_line'], (ends[0]!.payload.command as string[]).join(' '));
  });

  test('a tool span covers the recorded process run; the time the model waited is its own attribute', () => {
    const file = lines(SOULPASS);
    const callTime = new Map(file.filter((l) => l.payload.type === 'function_call').map((l) => [String(l.payload.call_id), l.time]));
    const outputTime = new Map(file.filter((l) => l.payload.type === 'function_call_output').map((l) => [String(l.payload.call_id), l.time]));
    const turnEnds = file.filter((l) => l.payload.type === 'task_complete' || l.payload.type === 'turn_aborted').map((l) => l.time);
    let stillRunning = 0;
    let checked = 0;
    for (const e of file.filter((l) => l.payload.type === 'exec_command_end')) {
      const id = String(e.payload.call_id);
      const span = byCall(of(plain.spans, SOULPASS), id)!;
      const d = e.payload.duration as { secs: number; nanos: number };
      const duration = d.secs * 1000 + d.nanos / 1e6;
      const start = Math.max(callTime.get(id)!, e.time - duration);
      // work cut off by its turn's end is closed there
      if (turnEnds.some((t) => t < e.time && t > callTime.get(id)!)) continue;
      checked++;
      assert.ok(Math.abs(ms(span.endNs) - e.time) < 0.002, `${id} ends when the process ended`);
      assert.ok(Math.abs(ms(span.startNs) - start) < 0.002, `${id} starts when the process started`);
      assert.ok(Math.abs(ms(span.endNs - span.startNs) - Number(span.attributes['codex.tool.duration_ms'])) < 0.002 || duration > e.time - callTime.get(id)!, `${id}: bar and duration agree`);
      assert.equal(span.attributes['codex.tool.wait_ms'], outputTime.get(id)! - callTime.get(id)!);
      if (outputTime.get(id)! < e.time - 1000) stillRunning++;
    }
    assert.ok(checked > 50, `${checked} checked`);
    assert.ok(stillRunning >= 5, 'processes that outlived the first wait are shown to their end');
  });

  test('an apply_patch row counts files and hunks, not their names', () => {
    const ends = lines(RAVE).filter((l) => l.payload.type === 'patch_apply_end');
    assert.ok(ends.length > 0);
    for (const e of ends) {
      const span = byCall(of(plain.spans, RAVE), String(e.payload.call_id))!;
      const changes = Object.values(e.payload.changes as Record<string, { type: string; unified_diff?: string }>);
      const count = (t: string) => changes.filter((c) => c.type === t).length;
      assert.equal(span.attributes['codex.patch.files_added'], count('add'));
      assert.equal(span.attributes['codex.patch.files_updated'], count('update'));
      assert.equal(span.attributes['codex.patch.files_deleted'], count('delete'));
      const hunks = changes.reduce((n, c) => n + Math.max(1, c.unified_diff?.match(/^@@/gm)?.length ?? 0), 0);
      assert.equal(span.attributes['codex.patch.hunks'], hunks);
      assert.equal(span.name, `execute_tool apply_patch · ${changes.length} file${changes.length === 1 ? '' : 's'}`);
      assert.equal(span.attributes['codex.patch.paths'], undefined);
    }
  });

  test('a web search row says what it did; the query only with content', () => {
    const search = tools(of(plain.spans, XEUS)).find((s) => s.attributes['gen_ai.tool.name'] === 'web_search')!;
    assert.equal(search.attributes['codex.web_search.action'], 'search');
    assert.equal(search.name, 'execute_tool web_search · search');
    assert.equal(search.attributes['codex.web_search.query'], undefined);
    const withContent = tools(of(content.spans, XEUS)).find((s) => s.attributes['gen_ai.tool.name'] === 'web_search')!;
    assert.equal(typeof withContent.attributes['codex.web_search.query'], 'string');
  });

  test('every failure is one documented error.type with its story in words', () => {
    const allowed = new Set(['exit_code', 'patch_failed', 'script_failed', 'mcp_error', 'tool_error', 'timeout', 'sandbox_denied', 'declined', 'cancelled', '_OTHER']);
    const failed = tools(plain.spans).filter((s) => s.status.code === 2);
    assert.ok(failed.length >= 5);
    for (const s of failed) {
      const type = String(s.attributes['error.type']);
      assert.ok(allowed.has(type), type);
      assert.ok(s.events.some((e) => e.name === 'exception' && e.attributes['exception.type'] === type), 'a failure is an exception event too');
      if (type === 'exit_code') assert.match(s.status.message, new RegExp(`^exit code ${s.attributes['process.exit.code']}\\b`));
      assert.doesNotMatch(s.status.message, /^-?\d+$/);
    }
    const git = byCall(of(plain.spans, SOULPASS), 'call_7bJ3CVYOdFUHnhOxGPBT0VS7') ?? failed.find((s) => s.attributes['process.exit.code'] === 128)!;
    assert.equal(git.attributes['error.type'], 'exit_code');
    assert.equal(git.status.message, 'exit code 128');
  });

  test('an aborted turn says so in its status message, without failing', () => {
    const aborted = of(plain.spans, SOULPASS).filter((s) => s.attributes['codex.turn.status'] === 'aborted');
    assert.ok(aborted.length > 0);
    for (const t of aborted) {
      assert.equal(t.status.code, 0);
      assert.match(t.status.message, /^aborted/);
    }
  });

  test('the root span carries a title the search lists show: repository and branch, or the directory', () => {
    const root = of(plain.spans, ACIDIC).find((s) => s.parentSpanId === '')!;
    assert.equal(root.attributes['rollout.title'], 'chatbot-ui@main');
    assert.equal(root.name, 'invoke_agent codex · chatbot-ui@main');
    assert.equal(root.attributes['gen_ai.operation.name'], 'invoke_agent');
    const cwdOnly = of(plain.spans, SOULPASS).find((s) => s.parentSpanId === '')!;
    assert.equal(cwdOnly.attributes['rollout.title'], 'blockchain');
    const legacy = of(plain.spans, LEGACY).find((s) => s.parentSpanId === '')!;
    assert.equal(legacy.attributes['rollout.title'], 'codex-session-viewer@main (times inferred)');
    assert.equal(legacy.attributes['rollout.timing'], 'inferred');
    const withPrompt = of(content.spans, ACIDIC).find((s) => s.parentSpanId === '')!;
    assert.match(String(withPrompt.attributes['rollout.title']), /^chatbot-ui@main ".+"$/);
  });

  test('every span has an OpenInference kind; every GenAI span an operation name', () => {
    const kinds: Record<string, string> = { invoke_agent: 'AGENT', handle_conversation_turn: 'CHAIN', chat: 'LLM', execute_tool: 'TOOL' };
    for (const s of plain.spans) {
      const kind = s.attributes['openinference.span.kind'];
      assert.ok(['AGENT', 'CHAIN', 'LLM', 'TOOL'].includes(String(kind)), s.name);
      const op = s.attributes['gen_ai.operation.name'];
      if (op !== undefined && s.name.startsWith(String(op)) && !s.name.startsWith('compaction_request')) assert.equal(kind, kinds[String(op)], s.name);
      if (s.name.startsWith('compaction_request')) assert.equal(op, 'chat');
      if (s.name === 'compaction') assert.equal(kind, 'CHAIN');
    }
    const chat = plain.spans.find((s) => s.attributes['gen_ai.usage.reasoning.output_tokens'] !== undefined && s.attributes['openinference.span.kind'] === 'LLM')!;
    assert.equal(chat.attributes['llm.token_count.completion_details.reasoning'], chat.attributes['gen_ai.usage.reasoning.output_tokens']);
    assert.equal(chat.attributes['llm.token_count.prompt'], chat.attributes['gen_ai.usage.input_tokens']);
    assert.equal(chat.attributes['llm.token_count.prompt_details.cache_read'], chat.attributes['gen_ai.usage.cache_read.input_tokens']);
  });

  test('with content, turns and the root carry input.value and output.value', () => {
    const spans = of(content.spans, XEUS);
    const root = spans.find((s) => s.parentSpanId === '')!;
    const turn = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'handle_conversation_turn')!;
    assert.equal(typeof turn.attributes['input.value'], 'string');
    assert.equal(typeof turn.attributes['output.value'], 'string');
    assert.equal(root.attributes['input.value'], turn.attributes['input.value']);
    assert.equal(root.attributes['session.id'], root.attributes['gen_ai.conversation.id']);
    assert.equal(of(plain.spans, XEUS).find((s) => s.parentSpanId === '')!.attributes['input.value'], undefined);
  });

  test('cost: a chat span is priced by hand-checkable rates, turns and the thread sum their calls', () => {
    // gpt-5.5 below its long-context tier: $5 / M input, $0.50 / M cached input, $30 / M output
    const spans = of(plain.spans, XEUS);
    const chat = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'chat')!;
    const input = Number(chat.attributes['gen_ai.usage.input_tokens']);
    const cached = Number(chat.attributes['gen_ai.usage.cache_read.input_tokens']);
    const output = Number(chat.attributes['gen_ai.usage.output_tokens']);
    const hand = ((input - cached) * 5 + cached * 0.5 + output * 30) / 1e6;
    assert.equal(chat.attributes['gen_ai.request.model'], 'gpt-5.5');
    assert.ok(Math.abs(Number(chat.attributes['gen_ai.usage.cost.amount']) - hand) < 1e-6);
    assert.equal(chat.attributes['gen_ai.usage.cost.currency'], 'USD');
    assert.equal(chat.attributes['gen_ai.usage.cost.source'], 'local');
    assert.match(plain.run.stderr, new RegExp(`${XEUS.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tokens in ${input.toLocaleString('en-US')} \\(cached ${cached.toLocaleString('en-US')}\\), out ${output.toLocaleString('en-US')}.*; cost \\$${hand.toFixed(4)} USD`));

    const sp = of(plain.spans, SOULPASS);
    const sum = (xs: ReceivedSpan[]) => xs.reduce((a, s) => a + Number(s.attributes['gen_ai.usage.cost.amount'] ?? 0), 0);
    const turns = sp.filter((s) => s.attributes['gen_ai.operation.name'] === 'handle_conversation_turn');
    for (const t of turns) {
      const calls = sp.filter((s) => s.parentSpanId === t.spanId && s.attributes['gen_ai.operation.name'] === 'chat');
      assert.ok(Math.abs(Number(t.attributes['gen_ai.usage.cost.amount'] ?? 0) - sum(calls)) < 1e-5, t.name);
    }
    const root = sp.find((s) => s.parentSpanId === '')!;
    assert.ok(Math.abs(Number(root.attributes['gen_ai.usage.cost.amount']) - sum(turns)) < 1e-5);
    assert.ok(Number(root.attributes['gen_ai.usage.cost.amount']) > 1);
  });

  test('a model without a price gets no cost and is counted, never guessed', () => {
    assert.equal(priceOf({ input: 1000, cachedInput: 0, output: 10, reasoningOutput: 0, total: 1010 }, 'codex-auto-review', 'openai', Date.now()), undefined);
    assert.equal(priceOf({ input: 1000, cachedInput: 0, output: 10, reasoningOutput: 0, total: 1010 }, 'no-such-model-x', undefined, Date.now()), undefined);
    const unpriced = plain.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat' && s.attributes['gen_ai.usage.input_tokens'] !== undefined && s.attributes['gen_ai.usage.cost.amount'] === undefined);
    for (const s of unpriced) assert.notEqual(priceOf({ input: 1, cachedInput: 0, output: 1, reasoningOutput: 0, total: 2 }, String(s.attributes['gen_ai.request.model']), 'openai', ms(s.startNs)), 0);
    if (unpriced.length) assert.match(plain.run.stderr, /model calls not priced: /);
  });
});

test('the program of a command is found past shells, set-up and PowerShell preambles', () => {
  const cases: [string | string[], string | undefined][] = [
    [['/bin/zsh', '-lc', "sed -n '1,220p' x"], 'sed'],
    [['bash', '-lc', 'cd repo && git status'], 'git'],
    [['bash', '-c', 'bash -lc "npm test"'], 'npm'],
    [['C:\\WINDOWS\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', '-Command', 'Get-Content x'], 'Get-Content'],
    ["$ErrorActionPreference='SilentlyContinue'; Get-ChildItem -Force", 'Get-ChildItem'],
    ['if (Test-Path x) { Get-Content x }', 'Test-Path'],
    ['FOO=1 sudo /usr/bin/python3 x.py', 'python3'],
    ['./scripts/export-session.sh --x', 'export-session.sh'],
    ['$x = 1', undefined],
  ];
  for (const [command, program] of cases) assert.equal(executableOf(command), program, JSON.stringify(command));
});

test('priced per call exactly as the price library prices it, below and above long-context tiers', () => {
  const models: [string, string][] = [['gpt-5.3-codex', 'openai'], ['gpt-5.4', 'openai'], ['gpt-5.5', 'openai'], ['gpt-5.6-sol', 'openai'], ['gpt-5.1-codex', 'openai'], ['claude-sonnet-4-5-20250929', 'anthropic'], ['claude-opus-4-5-20251101', 'anthropic']];
  const time = Date.parse('2026-09-01T12:00:00Z');
  for (const [model, provider] of models) {
    for (const input of [0, 1, 1200, 90_000, 199_999, 200_001, 271_999, 272_000, 600_000]) {
      const usage = { input, cachedInput: Math.floor(input * 0.7), cacheWriteInput: provider === 'anthropic' ? Math.floor(input * 0.1) : undefined, output: 1_234, reasoningOutput: 200, total: input + 1_234 };
      const want = calcPrice({ input_tokens: usage.input, cache_read_tokens: usage.cachedInput, cache_write_tokens: usage.cacheWriteInput, output_tokens: usage.output }, model, { providerId: provider, timestamp: new Date(time) })!.total_price;
      const got = priceOf(usage, model, provider, time)!;
      assert.ok(Math.abs(got - want) < 1e-9, `${model} ${input}: ${got} vs ${want}`);
    }
  }
});
