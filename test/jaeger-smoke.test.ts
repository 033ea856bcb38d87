import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, test } from 'vitest';
import { SpanKind, SpanStatusCode, TraceFlags, type HrTime, type SpanContext } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { getTrace, searchTraces, startJaeger, waitForTrace, type JaegerHandle } from './support/jaeger.js';

const SERVICE = 'rollout-otel-test';
// host.name on the shared resource keeps Jaeger's clock-skew check from adding warnings.
const resource = resourceFromAttributes({ 'service.name': SERVICE, 'host.name': 'h' });
const scope = { name: 'rollout-otel-smoke', version: '0.0.0' };
const T0 = Date.parse('2025-11-17T10:00:00Z');

const hr = (ms: number): HrTime => [Math.floor(ms / 1000), (ms % 1000) * 1e6];
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function span(name: string, ctx: SpanContext, parent: SpanContext | undefined, fromMs: number, toMs: number): ReadableSpan {
  return {
    name,
    kind: parent ? SpanKind.INTERNAL : SpanKind.SERVER,
    spanContext: () => ctx,
    parentSpanContext: parent,
    startTime: hr(T0 + fromMs),
    endTime: hr(T0 + toMs),
    duration: hr(toMs - fromMs),
    ended: true,
    status: { code: SpanStatusCode.OK },
    attributes: { 'test.step': name },
    links: [],
    events: [{ name: `${name}.event`, time: hr(T0 + fromMs + 1), attributes: { n: 1 } }],
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

let jaeger: JaegerHandle | undefined;
afterAll(async () => jaeger?.stop());

test('Jaeger stores, resolves and finds hand-built historical spans', async (context) => {
  const started = await startJaeger();
  // why is said once, by jaeger.test.ts
  if ('skip' in started) return context.skip(started.skip);
  jaeger = started;
  console.log(`Jaeger: ${jaeger.source}`);

  // Upper half non-zero, otherwise v1 JSON prints the id as 16 hex chars.
  const traceId = `f${hex(16).slice(1)}`;
  const ctx = (): SpanContext => ({ traceId, spanId: hex(8), traceFlags: TraceFlags.SAMPLED });
  const [root, turn, tool] = [ctx(), ctx(), ctx()];
  const spans = [
    span('session', root, undefined, 0, 10_000),
    span('turn', turn, root, 1_000, 4_000),
    span('tool', tool, turn, 2_000, 3_000),
  ];

  const exporter = new OTLPTraceExporter({ url: `${jaeger.otlpEndpoint}/v1/traces` });
  const result = await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
  await exporter.shutdown();
  assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));

  const trace = await waitForTrace(jaeger.queryUrl, traceId, 3);
  assert.equal(trace.traceID, traceId);
  assert.equal(trace.spans.length, 3);
  assert.deepEqual(trace.warnings ?? [], []);
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  for (const [sc, parent, name] of [[root, undefined, 'session'], [turn, root, 'turn'], [tool, turn, 'tool']] as const) {
    const s = byId.get(sc.spanId);
    assert.ok(s, `span ${name} stored`);
    assert.equal(s.operationName, name);
    assert.equal(trace.processes[s.processID]?.serviceName, SERVICE);
    assert.deepEqual(s.warnings ?? [], [], `no warnings on ${name}`);
    assert.deepEqual(s.references, parent ? [{ refType: 'CHILD_OF', traceID: traceId, spanID: parent.spanId }] : []);
  }
  assert.equal(byId.get(root.spanId)?.startTime, T0 * 1000);
  assert.equal(byId.get(root.spanId)?.duration, 10_000_000);

  const found = await searchTraces(jaeger.queryUrl, SERVICE, new Date('2025-11-17T00:00:00Z'), new Date('2025-11-18T00:00:00Z'));
  const foundIds = new Set(found.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.traceId))));
  assert.ok(foundIds.has(traceId), `v3 search finds ${traceId} in [${[...foundIds].join(', ')}]`);

  const ui = await fetch(`${jaeger.queryUrl}/trace/${traceId}`);
  await ui.arrayBuffer();
  assert.equal(ui.status, 200);

  assert.equal(await getTrace(jaeger.queryUrl, `f${hex(16).slice(1)}`), undefined, 'unknown trace id gives undefined');
});
