import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { readdirSync } from 'node:fs';
import { fixture, runCli } from './support/cli.ts';
import { readRollout } from './support/reading.ts';
import { startReceiver, type Receiver, type ReceivedSpan } from './support/otlp-receiver.ts';

const SESSIONS = readdirSync(fixture('.')).filter((f) => f.endsWith('.jsonl') && !f.startsWith('jazzyalex') && !f.startsWith('acidicsoil-viewer-legacy'));
const CONTENT_KEYS = ['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result', 'gen_ai.system_instructions'];

function byPath(spans: ReceivedSpan[]): Map<string, ReceivedSpan[]> {
  const out = new Map<string, ReceivedSpan[]>();
  for (const s of spans) {
    const p = String(s.attributes['rollout.source.path']);
    out.set(p, [...(out.get(p) ?? []), s]);
  }
  return out;
}

const kindOf = (s: ReceivedSpan) => s.name.split(' ')[0];

describe('export of real Codex rollouts', () => {
  let receiver: Receiver;
  let spans: ReceivedSpan[];
  let firstRun: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    receiver = await startReceiver();
    firstRun = await runCli(['export', ...SESSIONS.map(fixture)], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    spans = receiver.spans();
  });
  afterAll(() => receiver.close());

  test('exits 0, posts protobuf to /v1/traces and prints one trace id per session', () => {
    assert.equal(firstRun.code, 0, firstRun.stderr);
    assert.ok(receiver.requests.every((r) => r.path === '/v1/traces' && r.encoding === 'protobuf'));
    assert.equal(firstRun.stdout.trim().split('\n').length, SESSIONS.length);
    assert.match(firstRun.stderr, new RegExp(`${SESSIONS.length} sessions read, ${spans.length.toLocaleString("en-US")} spans built`));
    assert.match(firstRun.stderr, new RegExp(`delivered ${spans.length.toLocaleString('en-US')} spans`));
  });

  for (const name of SESSIONS) {
    test(`${name}: one trace that agrees with the file`, () => {
      const file = fixture(name);
      const r = readRollout(file);
      const mine = byPath(spans).get(file) ?? [];
      assert.ok(mine.length > 0);
      const traceIds = new Set(mine.map((s) => s.traceId));
      assert.equal(traceIds.size, 1, 'one trace per session');
      const [traceId] = traceIds;
      assert.notEqual(traceId!.slice(0, 16), '0000000000000000');

      // the file's thread span: a trace root, or (sub-agents) under the spawning call of another file
      const local = new Set(mine.map((s) => s.spanId));
      const roots = mine.filter((s) => !local.has(s.parentSpanId));
      assert.equal(roots.length, 1);
      const root = roots[0]!;
      if (root.parentSpanId) {
        const spawn = spans.find((s) => s.spanId === root.parentSpanId);
        assert.equal(spawn?.name, 'execute_tool spawn_agent');
        assert.equal(spawn?.traceId, root.traceId);
      }
      assert.ok(root.name.startsWith('invoke_agent '));
      assert.equal(root.attributes['gen_ai.conversation.id'], r.sessionId);
      assert.equal(root.attributes['gen_ai.agent.id'], r.threadId);
      assert.equal(root.attributes['gen_ai.operation.name'], 'invoke_agent');

      const turns = mine.filter((s) => kindOf(s) === 'handle_conversation_turn');
      if (r.turnStarts > 0) assert.equal(turns.length, r.turnStarts, 'one turn span per recorded turn');
      else assert.ok(turns.length >= 1);
      for (const t of turns) assert.equal(t.parentSpanId, root.spanId);

      const tools = mine.filter((s) => kindOf(s) === 'execute_tool');
      assert.equal(tools.length, r.callIds.size + r.webSearchItemsWithoutEnd, 'one execute_tool span per call id');
      const toolIds = tools.map((t) => t.attributes['gen_ai.tool.call.id']).filter(Boolean);
      assert.deepEqual(new Set(toolIds), r.callIds);
      assert.equal(toolIds.length, new Set(toolIds).size);

      const chats = mine.filter((s) => kindOf(s) === 'chat');
      assert.equal(chats.length, r.modelCalls, 'one chat span per model call');
      const sum = (k: string) => chats.reduce((a, s) => a + Number(s.attributes[k] ?? 0), 0);
      assert.equal(sum('gen_ai.usage.input_tokens'), r.inputTokens);
      assert.equal(sum('gen_ai.usage.output_tokens'), r.outputTokens);
      for (const c of chats) {
        assert.equal(c.kind, 3, 'chat spans are CLIENT');
        assert.equal(c.attributes['gen_ai.operation.name'], 'chat');
        assert.equal(c.attributes['gen_ai.provider.name'], 'openai');
      }

      const ids = new Map(mine.map((s) => [s.spanId, s]));
      assert.equal(ids.size, mine.length, 'span ids are unique');
      for (const s of mine) {
        assert.ok(s.endNs > s.startNs, `${s.name} ends after it starts`);
        assert.ok(s.startNs >= r.minTimeNs && s.endNs <= r.maxTimeNs + 1000n, `${s.name} lies inside the file's time range`);
        assert.equal(s.attributes['rollout.source.path'], file);
        const line = Number(s.attributes['rollout.source.line']);
        assert.ok(line >= 1 && line <= r.lines);
        for (const k of CONTENT_KEYS) assert.equal(s.attributes[k], undefined, `no ${k} by default`);
        if (s.parentSpanId && s !== root) {
          const parent = ids.get(s.parentSpanId);
          assert.ok(parent, `${s.name} has its parent in the trace`);
          assert.ok(s.startNs >= parent.startNs && s.endNs <= parent.endNs, `${s.name} (line ${line}) lies inside ${parent.name}`);
        }
        assert.equal(s.resource['service.name'], 'codex');
        assert.equal(s.resource['host.name'], root.resource['host.name']);
      }
    });
  }

  test('exporting again yields the same ids, parents and times', async () => {
    const again = await startReceiver();
    try {
      const run = await runCli(['export', '--quiet', ...SESSIONS.map(fixture)], { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: again.tracesUrl });
      assert.equal(run.code, 0, run.stderr);
      const key = (s: ReceivedSpan) => `${s.traceId}/${s.spanId}/${s.parentSpanId}/${s.name}/${s.startNs}/${s.endNs}`;
      assert.deepEqual(again.spans().map(key).sort(), spans.map(key).sort());
    } finally {
      await again.close();
    }
  });
});

describe('a small session, span by span', () => {
  const file = fixture('xeus-0.129.0-tui-websearch.jsonl');
  const ms = (iso: string) => BigInt(Date.parse(iso)) * 1000000n;

  for (const protocol of ['http/protobuf', 'http/json']) {
    test(`over ${protocol}`, async () => {
      const receiver = await startReceiver();
      try {
        const run = await runCli(['export', file], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: 'my-codex' });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(receiver.requests[0]?.encoding, protocol === 'http/json' ? 'json' : 'protobuf');
        const spans = receiver.spans();
        assert.deepEqual(spans.map((s) => s.name).sort(), ['chat gpt-5.5', 'execute_tool web_search · search', 'handle_conversation_turn codex', 'invoke_agent codex · Stellar-v1k@main']);
        const get = (prefix: string) => spans.find((s) => s.name.startsWith(prefix))!;
        const [thread, turn, chat, tool] = ['invoke_agent', 'handle_', 'chat', 'execute_tool'].map(get) as ReceivedSpan[];
        assert.equal(turn!.parentSpanId, thread!.spanId);
        assert.equal(chat!.parentSpanId, turn!.spanId);
        assert.equal(tool!.parentSpanId, turn!.spanId);
        assert.deepEqual([thread!.kind, turn!.kind, chat!.kind, tool!.kind], [1, 1, 3, 1]);

        // thread: from the recorded thread start to the last line
        assert.equal(thread!.startNs, ms('2026-05-08T09:23:20.270Z'));
        assert.equal(thread!.endNs, ms('2026-05-08T09:24:01.811Z'));
        // turn: from task_started's recorded started_at (whole seconds) to task_complete
        assert.equal(turn!.startNs, ms('2026-05-08T09:23:47.000Z'));
        assert.equal(turn!.endNs, ms('2026-05-08T09:24:01.811Z'));
        // chat: from the user's message to the model's last output item
        assert.equal(chat!.startNs, ms('2026-05-08T09:23:47.801Z'));
        assert.equal(chat!.endNs, ms('2026-05-08T09:24:01.736Z'));
        // web search: after the commentary message, until its item was written
        assert.equal(tool!.startNs, ms('2026-05-08T09:23:52.942Z'));
        assert.equal(tool!.endNs, ms('2026-05-08T09:23:57.448Z'));

        assert.deepEqual(
          Object.fromEntries(Object.entries(chat!.attributes).filter(([k]) => k.startsWith('gen_ai.'))),
          {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-5.5',
            'gen_ai.conversation.id': '019e06e6-0c4e-72d2-a0ab-34efa4c2613d',
            'gen_ai.usage.input_tokens': 33020,
            'gen_ai.usage.output_tokens': 492,
            'gen_ai.usage.cache_read.input_tokens': 20864,
            'gen_ai.usage.reasoning.output_tokens': 215,
            // gpt-5.5: (33,020 - 20,864) x $5/M + 20,864 x $0.50/M + 492 x $30/M
            'gen_ai.usage.cost.amount': 0.085972,
            'gen_ai.usage.cost.currency': 'USD',
            'gen_ai.usage.cost.source': 'local',
          },
        );
        assert.equal(turn!.attributes['gen_ai.usage.input_tokens'], 33020);
        assert.equal(turn!.attributes['codex.turn.id'], '019e06e6-7736-7171-8318-04415a07f06b');
        assert.equal(turn!.attributes['codex.turn.status'], 'completed');
        assert.equal(turn!.attributes['gen_ai.request.model'], 'gpt-5.5');
        assert.equal(turn!.attributes['codex.sandbox_policy'], 'workspace-write');
        assert.equal(tool!.attributes['gen_ai.tool.name'], 'web_search');
        assert.equal(tool!.attributes['gen_ai.tool.call.id'], 'ws_09323f30319adeb40169fdabb96b6081919e8233901089e81f');
        assert.equal(thread!.attributes['codex.cli_version'], '0.129.0');
        assert.equal(thread!.attributes['codex.originator'], 'codex-tui');
        assert.deepEqual([thread!.attributes['rollout.source.line'], turn!.attributes['rollout.source.line'], tool!.attributes['rollout.source.line']], [1, 2, 12]);
        assert.equal(thread!.resource['service.name'], 'my-codex');
        assert.equal(thread!.resource['service.version'], '0.129.0');
        assert.equal(thread!.scope.name, 'rollout-otel');
      } finally {
        await receiver.close();
      }
    });
  }
});
