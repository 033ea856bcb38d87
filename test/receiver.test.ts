import { onTestFinished, test } from 'vitest';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, TraceFlags, type HrTime, type SpanContext } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startReceiver, type ReceivedSpan } from './support/otlp-receiver.js';

const resource = resourceFromAttributes({ 'service.name': 'receiver-test', 'service.version': '1.2.3' });
const scope = { name: 'receiver-test-scope', version: '0.0.1' };
const traceId = '0af7651916cd43dd8448eb211c80319c';
const linkedTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const ctx = (spanId: string, trace = traceId): SpanContext => ({ traceId: trace, spanId, traceFlags: TraceFlags.SAMPLED });

function readableSpan(s: Partial<ReadableSpan> & { name: string; spanId: string; startTime: HrTime; endTime: HrTime }): ReadableSpan {
  const { spanId, ...rest } = s;
  return {
    kind: SpanKind.INTERNAL,
    spanContext: () => ctx(spanId),
    status: { code: SpanStatusCode.UNSET },
    attributes: {},
    links: [],
    events: [],
    duration: [s.endTime[0] - s.startTime[0], s.endTime[1] - s.startTime[1]],
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...rest,
  };
}

const sent: ReadableSpan[] = [
  readableSpan({
    name: 'invoke_agent',
    spanId: '00f067aa0ba902b7',
    kind: SpanKind.SERVER,
    startTime: [1_700_000_000, 123_456_789],
    endTime: [1_700_000_010, 987_654_321],
    attributes: { 'str.attr': 'hello', 'int.attr': 42, 'bool.attr': true, 'double.attr': 0.25, 'arr.attr': ['a', 'b'] },
    events: [{ name: 'turn.start', time: [1_700_000_001, 500], attributes: { 'turn.index': 1 } }],
    status: { code: SpanStatusCode.OK },
  }),
  readableSpan({
    name: 'chat gpt-5',
    spanId: 'b7ad6b7169203331',
    parentSpanContext: ctx('00f067aa0ba902b7'),
    kind: SpanKind.CLIENT,
    startTime: [1_700_000_002, 0],
    endTime: [1_700_000_003, 1],
    links: [{ context: ctx('53995c3f42cd8ad8', linkedTraceId), attributes: { 'link.reason': 'resumed' } }],
    status: { code: SpanStatusCode.ERROR, message: 'upstream timed out' },
  }),
  readableSpan({
    name: 'execute_tool shell',
    spanId: 'c5a1e0d0b3f2e4a6',
    parentSpanContext: ctx('00f067aa0ba902b7'),
    startTime: [1_700_000_004, 999_999_999],
    endTime: [1_700_000_005, 0],
    attributes: { 'tool.exit_code': -1 },
  }),
];

const sentResource = { 'service.name': 'receiver-test', 'service.version': '1.2.3' };
const base = { links: [], events: [], attributes: {}, resource: sentResource, scope, traceId };
const expected: ReceivedSpan[] = [
  {
    ...base,
    spanId: '00f067aa0ba902b7',
    parentSpanId: '',
    name: 'invoke_agent',
    kind: 2,
    startNs: 1_700_000_000_123_456_789n,
    endNs: 1_700_000_010_987_654_321n,
    attributes: { 'str.attr': 'hello', 'int.attr': 42, 'bool.attr': true, 'double.attr': 0.25, 'arr.attr': ['a', 'b'] },
    events: [{ name: 'turn.start', timeNs: 1_700_000_001_000_000_500n, attributes: { 'turn.index': 1 } }],
    status: { code: 1, message: '' },
  },
  {
    ...base,
    spanId: 'b7ad6b7169203331',
    parentSpanId: '00f067aa0ba902b7',
    name: 'chat gpt-5',
    kind: 3,
    startNs: 1_700_000_002_000_000_000n,
    endNs: 1_700_000_003_000_000_001n,
    links: [{ traceId: linkedTraceId, spanId: '53995c3f42cd8ad8', attributes: { 'link.reason': 'resumed' } }],
    status: { code: 2, message: 'upstream timed out' },
  },
  {
    ...base,
    spanId: 'c5a1e0d0b3f2e4a6',
    parentSpanId: '00f067aa0ba902b7',
    name: 'execute_tool shell',
    kind: 1,
    startNs: 1_700_000_004_999_999_999n,
    endNs: 1_700_000_005_000_000_000n,
    attributes: { 'tool.exit_code': -1 },
    status: { code: 0, message: '' },
  },
];

type Exporter = ProtoExporter | JsonExporter;

async function exportOnce(exporter: Exporter, spans: ReadableSpan[]): Promise<ExportResult> {
  const result = await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
  await exporter.shutdown();
  return result;
}

test('protobuf and JSON, plain and gzip, decode to the same spans that were sent', async () => {
  const receiver = await startReceiver();
  onTestFinished(() => receiver.close());
  const url = receiver.tracesUrl;
  const gzip = { compression: CompressionAlgorithm.GZIP };
  const exporters: [string, Exporter][] = [
    ['protobuf', new ProtoExporter({ url })],
    ['json', new JsonExporter({ url })],
    ['protobuf+gzip', new ProtoExporter({ url, ...gzip })],
    ['json+gzip', new JsonExporter({ url, ...gzip })],
  ];
  for (const [label, exporter] of exporters) {
    assert.equal((await exportOnce(exporter, sent)).code, ExportResultCode.SUCCESS, label);
  }

  assert.deepEqual(
    receiver.requests.map((r) => [r.path, r.encoding, r.gzip, r.status]),
    [
      ['/v1/traces', 'protobuf', false, 200],
      ['/v1/traces', 'json', false, 200],
      ['/v1/traces', 'protobuf', true, 200],
      ['/v1/traces', 'json', true, 200],
    ],
  );
  assert.match(receiver.requests[0]!.contentType, /^application\/x-protobuf/);
  assert.match(receiver.requests[1]!.contentType, /^application\/json/);
  assert.equal(receiver.requests[2]!.headers['content-encoding'], 'gzip');
  for (const [i, request] of receiver.requests.entries()) {
    assert.deepEqual(request.spans, receiver.requests[0]!.spans, `${exporters[i]![0]} decodes like protobuf`);
    assert.deepEqual(request.spans, expected, `${exporters[i]![0]} matches what was sent`);
  }
  assert.equal((await receiver.waitForSpans(12)).length, 12);
  assert.equal(receiver.failures, 0);
});

test('failFirst answers 503 and the exporter retries until it gets through', async () => {
  const receiver = await startReceiver({ failFirst: 2 });
  onTestFinished(() => receiver.close());
  const result = await exportOnce(new ProtoExporter({ url: receiver.tracesUrl }), sent);
  assert.equal(result.code, ExportResultCode.SUCCESS);
  assert.equal(receiver.failures, 2);
  assert.deepEqual(
    receiver.requests.map((r) => r.status),
    [503, 503, 200],
  );
  assert.deepEqual(receiver.spans(), expected);
});

test('unknown content type is rejected with 415', async () => {
  const receiver = await startReceiver();
  onTestFinished(() => receiver.close());
  const res = await fetch(receiver.tracesUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
  assert.equal(res.status, 415);
  assert.equal(receiver.failures, 1);
  assert.deepEqual(receiver.requests, []);
  await assert.rejects(receiver.waitForSpans(1, 50), /timed out/);
});
