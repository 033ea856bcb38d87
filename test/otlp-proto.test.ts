import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode, TraceFlags, createTraceState, type Attributes } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import protobuf from 'protobufjs';
import { encodeTraceRequest } from '../src/export/otlp-proto.ts';
import { exportSession } from '../src/pipeline/session.ts';
import { fixture } from './support/cli.ts';

// Our protobuf encoder against the OpenTelemetry exporter's serializer, on every span the samples
// give and on spans made to reach every branch: same bytes, and a decoding that reads them back.

const root = protobuf.loadSync(fileURLToPath(new URL('./support/otlp-trace.proto', import.meta.url)));
const Request = root.lookupType('otlp.ExportTraceServiceRequest');

async function sampleSpans(capture: boolean): Promise<ReadableSpan[]> {
  const files = readdirSync(fixture('')).filter((f) => f.endsWith('.jsonl'));
  const spans: ReadableSpan[] = [];
  for (const f of files) {
    await exportSession(fixture(f), {
      serviceName: 'codex',
      content: { capture, limit: 16 * 1024 },
      emit: async (s) => {
        spans.push(...s);
      },
    });
  }
  return spans;
}

const resourceA = resourceFromAttributes({ 'service.name': 'a', 'host.name': 'h' });
const resourceB = resourceFromAttributes({ 'service.name': 'b', n: -5, big: 2 ** 60, f: 1.25, ok: true, list: ['x', 'y'] }, { schemaUrl: 'https://example.com/schema' });
const scopeA = { name: 'rollout-otel', version: '1.0.0' };
const scopeB = { name: 'other', schemaUrl: 'https://example.com/scope', attributes: { k: 'v' }, droppedAttributesCount: 2 } as unknown as typeof scopeA;

function odd(i: number, attributes: Attributes, over: Partial<ReadableSpan> = {}): ReadableSpan {
  const traceId = (i % 2 ? 'ABCDEF0123456789abcdef0123456789' : '0af7651916cd43dd8448eb211c80319c');
  const spanId = `b7ad6b71${String(i).padStart(8, '0')}`;
  const ctx = { traceId, spanId, traceFlags: i % 3 ? TraceFlags.SAMPLED : TraceFlags.NONE, traceState: i % 4 === 0 ? createTraceState('a=1,b=2') : undefined };
  return {
    name: i % 5 ? `span ${i} ✓` : 'x'.repeat(200 + i),
    kind: (i % 5) as SpanKind,
    spanContext: () => ctx,
    parentSpanContext: i % 2 ? { traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: i % 4 === 1 } : undefined,
    startTime: [1_700_000_000 + i * 1_000_003, (i * 7_919_993) % 1e9],
    endTime: [4_294_967_296 + i, 999_999_999],
    duration: [1, 0],
    ended: true,
    status: i % 3 === 0 ? { code: SpanStatusCode.ERROR, message: i % 2 ? 'boom é' : undefined } : { code: i % 3 === 1 ? SpanStatusCode.OK : SpanStatusCode.UNSET },
    attributes,
    links: i % 2 ? [] : [
      { context: { traceId, spanId: '1111111111111111', traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: createTraceState('k=v') }, attributes: { 'codex.link.kind': 'agent_interaction' }, droppedAttributesCount: 3 },
      { context: { traceId, spanId: '2222222222222222', traceFlags: TraceFlags.NONE } },
    ],
    events: [
      { name: 'e', time: [0, 0] },
      { name: 'note ✓', time: [1_800_000_000, 123], attributes: { a: 1, b: 'two', c: [1.5, -2] }, droppedAttributesCount: i },
    ],
    resource: i % 3 ? resourceA : resourceB,
    instrumentationScope: i % 4 ? scopeA : scopeB,
    droppedAttributesCount: i,
    droppedEventsCount: 200 * i,
    droppedLinksCount: i > 1000 ? 2 ** 40 + i : 0,
    ...over,
  };
}

const ODD_VALUES: Attributes[] = [
  {},
  { s: '', t: 'plain', u: 'ünïcödé 日本 🙂', long: 'y'.repeat(127), longer: 'z'.repeat(128), huge: 'w'.repeat(70_000), mixed: `${'a'.repeat(100)}é` },
  { lone: '\ud800 and \udfff', pair: '\ud83d\ude42', nul: 'a\u0000b' },
  { zero: 0, one: 1, neg: -1, neg32: -(2 ** 31), big32: 2 ** 32, big53: 2 ** 53 + 2, max: 2 ** 63 - 1024, top: 2 ** 63, low: -(2 ** 63), lower: -(2 ** 64), negZero: -0 },
  { half: 0.5, nan: NaN, inf: Infinity, ninf: -Infinity, tiny: 5e-324 },
  { t: true, f: false, arr: ['a', 1, true, 2.5] as unknown as string[], empty: [], nested: [['x'], []] as unknown as string[], bytes: new Uint8Array([0, 1, 255]) as unknown as string },
  { obj: { k: 'v', n: 2, inner: { deep: [1] } } as unknown as string, nul: null as unknown as string, und: undefined },
  Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key.${i}.${'k'.repeat(i * 5)}`, i % 2 ? `value ${i}`.repeat(i) : i * 1000.5])),
];

function same(spans: ReadableSpan[], label: string): void {
  const theirs = ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array;
  const ours = encodeTraceRequest(spans);
  const opts = { longs: String, bytes: String, defaults: true, arrays: true };
  assert.deepEqual(Request.toObject(Request.decode(ours), opts), Request.toObject(Request.decode(theirs), opts), label);
  assert.ok(Buffer.from(ours).equals(Buffer.from(theirs)), `${label}: same decoding but different bytes`);
}

describe('protobuf encoder', () => {
  test('encodes the samples\' spans as the OpenTelemetry exporter does', async () => {
    for (const capture of [false, true]) {
      const spans = await sampleSpans(capture);
      assert.ok(spans.length > 1000);
      for (let i = 0; i < spans.length; i += 300) same(spans.slice(i, i + 300), `capture ${capture}, spans ${i}…`);
    }
  });

  test('encodes odd values, several resources and scopes, links, events, trace state', () => {
    const spans = ODD_VALUES.flatMap((attrs, i) => [odd(i, attrs), odd(i + 100, attrs), odd(i + 1001, attrs)]);
    for (const s of spans) same([s], s.name.slice(0, 40));
    same(spans, 'all together');
    same([], 'no spans');
  });

  test('encodes times beyond 2^53 nanoseconds exactly', () => {
    const times: [number, number][] = [[0, 0], [1, 1], [65_535, 999_999_999], [65_536, 0], [1_700_000_000, 123_456_789], [4_294_967_295, 999_999_999], [9_007_199, 254_740_993], [18_446_744_073, 709_551_615]];
    for (const t of times) {
      const s = odd(1, {}, { startTime: t, endTime: t });
      same([s], `time ${t}`);
      const decoded = Request.toObject(Request.decode(encodeTraceRequest([s])), { longs: String, defaults: true }) as { resourceSpans: { scopeSpans: { spans: { startTimeUnixNano: string }[] }[] }[] };
      assert.equal(decoded.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.startTimeUnixNano, String(BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])));
    }
  });
});
