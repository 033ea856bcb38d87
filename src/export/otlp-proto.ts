import type { Attributes, AttributeValue, HrTime, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

// OTLP ExportTraceServiceRequest in protobuf, written in one pass straight from ReadableSpans
// (field numbers from opentelemetry-proto trace/v1, common/v1, resource/v1). Nested messages get
// their length prefix reserved up front and moved only when the guess was wrong, strings are
// written without an intermediate copy, and the buffer is reused from one request to the next.

const enum Wire {
  Varint = 0,
  Fixed64 = 1,
  Len = 2,
  Fixed32 = 5,
}

const tag = (field: number, wire: Wire) => (field << 3) | wire;

const SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE = 0x100;
const SPAN_FLAGS_CONTEXT_IS_REMOTE = 0x200;
const TWO_32 = 0x100000000;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

// hex digit values, with the exporter's reading of anything else
const NIBBLE = new Uint8Array(256);
for (let c = 0; c < 256; c++) NIBBLE[c] = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : (c - 55) & 0xff;

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

class Writer {
  buf: Buffer;
  pos = 0;

  constructor(initial: number | Buffer = 256 * 1024) {
    this.buf = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  varint(v: number): void {
    if (!(v >= 0 && v <= 0xffffffff)) return this.int64(v);
    this.ensure(5);
    const buf = this.buf;
    while (v > 0x7f) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** an integer in the int64 range, negative ones as 64-bit two's complement */
  int64(v: number): void {
    if (v >= 0) return this.varint64(v % TWO_32, Math.floor(v / TWO_32));
    const abs = -v;
    let lo = ~(abs % TWO_32) >>> 0;
    let hi = ~Math.floor(abs / TWO_32) >>> 0;
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
    this.varint64(lo, hi);
  }

  /** a 64-bit two's complement integer given as its low and high 32 bits */
  varint64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    while (hi > 0 || lo > 0x7f) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  fixed32(v: number): void {
    this.ensure(4);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = v & 0xff;
    buf[p++] = (v >>> 8) & 0xff;
    buf[p++] = (v >>> 16) & 0xff;
    buf[p++] = (v >>> 24) & 0xff;
    this.pos = p;
  }

  fixed64(lo: number, hi: number): void {
    this.fixed32(lo);
    this.fixed32(hi);
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Starts a length-delimited field, guessing its length needs `reserve` bytes; returns where it starts. */
  begin(reserve: number): number {
    const at = this.pos;
    this.ensure(reserve);
    this.pos += reserve;
    return at;
  }

  end(at: number, reserve: number): void {
    const len = this.pos - at - reserve;
    const size = varintSize(len);
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buf.copyWithin(at + size, at + reserve, this.pos);
      this.pos += size - reserve;
    }
    const buf = this.buf;
    let v = len;
    let p = at;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
  }

  /** length and UTF-8 bytes */
  string(s: string): void {
    const n = s.length;
    if (n < 0x80) {
      // short ASCII, the common case: one length byte, no native call
      this.ensure(1 + 3 * n);
      const buf = this.buf;
      const at = this.pos;
      let p = at + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[at] = n;
        this.pos = p;
        return;
      }
    }
    const max = 3 * n; // UTF-8 bytes per UTF-16 unit, at most
    const reserve = varintSize(max);
    this.ensure(reserve + max);
    const at = this.pos;
    this.pos += reserve;
    this.pos += this.buf.write(s, this.pos, max, 'utf8');
    this.end(at, reserve);
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** an id given in hex, as bytes */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1;
    this.varint(n);
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < 2 * n; i += 2) buf[p++] = (NIBBLE[hex.charCodeAt(i) & 0xff]! << 4) | NIBBLE[hex.charCodeAt(i + 1) & 0xff]!;
    this.pos = p;
  }

  /** HrTime [seconds, nanoseconds] as fixed64 nanoseconds, exact beyond 2^53 */
  hrTime(t: HrTime): void {
    // seconds split in 16-bit halves so that every product stays below 2^53
    const secLo = t[0] % 0x10000;
    const secHi = (t[0] - secLo) / 0x10000;
    const a = secLo * 1e9 + t[1]; // < 2^53
    const b = secHi * 1e9; // shifted left by 16 bits below
    const bLo = (b % 0x10000) * 0x10000; // < 2^32
    const low = (a % TWO_32) + bLo;
    const high = Math.floor(a / TWO_32) + Math.floor(b / 0x10000) + Math.floor(low / TWO_32);
    this.fixed64(low % TWO_32, high % TWO_32);
  }

  /** A copy of what was written (the buffer itself is reused). */
  take(): Uint8Array {
    const out = Buffer.allocUnsafeSlow(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    return out;
  }
}

function anyValue(w: Writer, v: AttributeValue | Attributes | unknown): void {
  switch (typeof v) {
    case 'string':
      w.byte(tag(1, Wire.Len));
      w.string(v);
      return;
    case 'boolean':
      w.byte(tag(2, Wire.Varint));
      w.byte(v ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(v) && v >= MIN_INT64 && v < MAX_INT64) {
        w.byte(tag(3, Wire.Varint));
        w.int64(v);
      } else {
        w.byte(tag(4, Wire.Fixed64));
        w.double(v);
      }
      return;
  }
  if (v instanceof Uint8Array) {
    w.byte(tag(7, Wire.Len));
    w.bytes(v);
  } else if (Array.isArray(v)) {
    w.byte(tag(5, Wire.Len));
    const at = w.begin(1);
    for (const item of v) {
      w.byte(tag(1, Wire.Len));
      const itemAt = w.begin(1);
      anyValue(w, item);
      w.end(itemAt, 1);
    }
    w.end(at, 1);
  } else if (typeof v === 'object' && v !== null) {
    w.byte(tag(6, Wire.Len));
    const at = w.begin(1);
    keyValues(w, v as Attributes, 1);
    w.end(at, 1);
  }
  // anything else: an AnyValue with no value
}

// Attribute keys come from a small set: each one's `key` field and the `value` tag after it are
// encoded once. Bounded, in case keys are not a small set after all.
const keyFields = new Map<string, Uint8Array>();
const KEY_FIELDS_MAX = 4096;

function keyField(key: string): Uint8Array {
  let bytes = keyFields.get(key);
  if (bytes === undefined) {
    const k = new Writer(64);
    k.byte(tag(1, Wire.Len));
    k.string(key);
    k.byte(tag(2, Wire.Len));
    bytes = k.take();
    if (keyFields.size < KEY_FIELDS_MAX) keyFields.set(key, bytes);
  }
  return bytes;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** repeated KeyValue `field` */
function keyValues(w: Writer, attrs: Attributes, field: number): void {
  const t = tag(field, Wire.Len);
  for (const key in attrs) {
    if (!hasOwn.call(attrs, key)) continue;
    const k = keyField(key);
    const v = attrs[key];
    const kn = k.length;
    const short = typeof v === 'string' && v.length < 100 - kn;
    w.ensure(kn + 8 + (short ? 3 * v.length : 0));
    const buf = w.buf;
    let p = w.pos;
    buf[p++] = t;
    const at = p++;
    for (let i = 0; i < kn; i++) buf[p++] = k[i]!;
    if (short) {
      // a short string value: every length fits one byte if it is ASCII, the common case
      const n = (v as string).length;
      let q = p + 3;
      let i = 0;
      for (; i < n; i++) {
        const c = (v as string).charCodeAt(i);
        if (c > 0x7f) break;
        buf[q++] = c;
      }
      if (i === n) {
        buf[p] = n + 2; // AnyValue: string_value tag, length, bytes
        buf[p + 1] = tag(1, Wire.Len);
        buf[p + 2] = n;
        buf[at] = q - at - 1;
        w.pos = q;
        continue;
      }
    }
    w.pos = p;
    const valueAt = w.begin(1);
    anyValue(w, v);
    w.end(valueAt, 1);
    w.end(at, 1);
  }
}

function flagsOf(ctx: SpanContext | undefined, traceFlags: number): number {
  return (traceFlags & 0xff) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE | (ctx?.isRemote ? SPAN_FLAGS_CONTEXT_IS_REMOTE : 0);
}

function span(w: Writer, s: ReadableSpan): void {
  const ctx = s.spanContext();
  w.byte(tag(1, Wire.Len));
  w.hexBytes(ctx.traceId);
  w.byte(tag(2, Wire.Len));
  w.hexBytes(ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) {
    w.byte(tag(3, Wire.Len));
    w.string(traceState);
  }
  const parent = s.parentSpanContext;
  if (parent?.spanId) {
    w.byte(tag(4, Wire.Len));
    w.hexBytes(parent.spanId);
  }
  w.byte(tag(5, Wire.Len));
  w.string(s.name);
  // the API's kinds start at 0 for INTERNAL, OTLP's at 1 (0 is unspecified)
  const kind = s.kind == null ? 0 : s.kind + 1;
  if (kind !== 0) {
    w.byte(tag(6, Wire.Varint));
    w.varint(kind);
  }
  w.byte(tag(7, Wire.Fixed64));
  w.hrTime(s.startTime);
  w.byte(tag(8, Wire.Fixed64));
  w.hrTime(s.endTime);
  if (s.attributes) keyValues(w, s.attributes, 9);
  w.byte(tag(10, Wire.Varint));
  w.varint(s.droppedAttributesCount);
  for (const e of s.events) {
    w.byte(tag(11, Wire.Len));
    const at = w.begin(1);
    w.byte(tag(1, Wire.Fixed64));
    w.hrTime(e.time);
    w.byte(tag(2, Wire.Len));
    w.string(e.name);
    if (e.attributes) keyValues(w, e.attributes, 3);
    w.byte(tag(4, Wire.Varint));
    w.varint(e.droppedAttributesCount || 0);
    w.end(at, 1);
  }
  w.byte(tag(12, Wire.Varint));
  w.varint(s.droppedEventsCount);
  for (const l of s.links) {
    w.byte(tag(13, Wire.Len));
    const at = w.begin(1);
    w.byte(tag(1, Wire.Len));
    w.hexBytes(l.context.traceId);
    w.byte(tag(2, Wire.Len));
    w.hexBytes(l.context.spanId);
    const linkState = l.context.traceState?.serialize();
    if (linkState) {
      w.byte(tag(3, Wire.Len));
      w.string(linkState);
    }
    if (l.attributes) keyValues(w, l.attributes, 4);
    w.byte(tag(5, Wire.Varint));
    w.varint(l.droppedAttributesCount || 0);
    w.byte(tag(6, Wire.Fixed32));
    w.fixed32(flagsOf(l.context, l.context.traceFlags));
    w.end(at, 1);
  }
  w.byte(tag(14, Wire.Varint));
  w.varint(s.droppedLinksCount);
  w.byte(tag(15, Wire.Len));
  const statusAt = w.begin(1);
  if (s.status.message) {
    w.byte(tag(2, Wire.Len));
    w.string(s.status.message);
  }
  w.byte(tag(3, Wire.Varint));
  w.varint(s.status.code);
  w.end(statusAt, 1);
  w.varint(tag(16, Wire.Fixed32)); // field 16: a two-byte tag
  w.fixed32(flagsOf(parent, ctx.traceFlags));
}

function scope(w: Writer, sc: InstrumentationScope & { attributes?: Attributes; droppedAttributesCount?: number }): void {
  w.byte(tag(1, Wire.Len));
  const at = w.begin(1);
  w.byte(tag(1, Wire.Len));
  w.string(sc.name);
  if (sc.version) {
    w.byte(tag(2, Wire.Len));
    w.string(sc.version);
  }
  if (sc.attributes) keyValues(w, sc.attributes, 3);
  if (sc.droppedAttributesCount) {
    w.byte(tag(4, Wire.Varint));
    w.varint(sc.droppedAttributesCount);
  }
  w.end(at, 1);
}

function resource(w: Writer, r: Resource): void {
  w.byte(tag(1, Wire.Len));
  const at = w.begin(1);
  if (r.attributes) keyValues(w, r.attributes, 1);
  w.byte(tag(2, Wire.Varint));
  w.byte(0);
  w.end(at, 1);
}

/** Consecutive spans of one resource and scope, as framed `Span` fields in the staging buffer. */
interface Run {
  resource: Resource;
  scope: InstrumentationScope;
  start: number;
  end: number;
}

/** Where one ResourceSpans' parts are, and its size: small fields in the head buffer, spans in runs. */
interface ResourcePlan {
  resourceAt: number;
  resourceEnd: number;
  scopes: { at: number; schemaAt: number; end: number; runs: Run[]; size: number }[];
  schemaAt: number;
  schemaEnd: number;
  size: number;
}

/**
 * Builds an ExportTraceServiceRequest span by span: each span is encoded, framed as a `Span`
 * field, as it is added, so the span objects can go as soon as they are made. Building the request
 * frames the runs of spans by resource and scope and copies each run once into a buffer of the
 * exact size.
 */
export class TraceRequestBuilder {
  private readonly staged = new Writer();
  private runs: Run[] = [];
  private count = 0;
  /** request buffers given back once sent (see `release`) */
  private readonly free: Buffer[] = [];

  get spanCount(): number {
    return this.count;
  }

  /** Encodes the span; returns what it adds to the request, in bytes. */
  add(s: ReadableSpan): number {
    const w = this.staged;
    const start = w.pos;
    w.byte(tag(2, Wire.Len));
    const at = w.begin(2);
    span(w, s);
    w.end(at, 2);
    this.count++;
    const last = this.runs.at(-1);
    if (last && last.resource === s.resource && last.scope === s.instrumentationScope) last.end = w.pos;
    else this.runs.push({ resource: s.resource, scope: s.instrumentationScope, start, end: w.pos });
    return w.pos - start;
  }

  /** The request for every span added since the last one, grouped by resource, then scope (by identity, in order of appearance). */
  build(): Uint8Array {
    const groups = new Map<Resource, Map<InstrumentationScope, Run[]>>();
    for (const r of this.runs) {
      let scopes = groups.get(r.resource);
      if (!scopes) groups.set(r.resource, (scopes = new Map()));
      const list = scopes.get(r.scope);
      if (list) list.push(r);
      else scopes.set(r.scope, [r]);
    }
    // The small fields (resource, scope, schema URLs) are written first, so every length is known
    // before the request is written, once, into a buffer of its exact size.
    const head = requestWriter;
    head.pos = 0;
    const plan: ResourcePlan[] = [];
    let total = 0;
    for (const [res, scopes] of groups) {
      const resourceAt = head.pos;
      resource(head, res);
      const resourceEnd = head.pos;
      let size = resourceEnd - resourceAt;
      const planned: ResourcePlan['scopes'] = [];
      for (const [sc, runs] of scopes) {
        const at = head.pos;
        scope(head, sc);
        const schemaAt = head.pos;
        if (sc.schemaUrl) {
          head.byte(tag(3, Wire.Len));
          head.string(sc.schemaUrl);
        }
        let scopeSize = head.pos - at;
        for (const r of runs) scopeSize += r.end - r.start;
        planned.push({ at, schemaAt, end: head.pos, runs, size: scopeSize });
        size += 1 + varintSize(scopeSize) + scopeSize;
      }
      const schemaAt = head.pos;
      if (res.schemaUrl) {
        head.byte(tag(3, Wire.Len));
        head.string(res.schemaUrl);
      }
      size += head.pos - schemaAt;
      plan.push({ resourceAt, resourceEnd, scopes: planned, schemaAt, schemaEnd: head.pos, size });
      total += 1 + varintSize(size) + size;
    }
    const out = new Writer(this.bufferFor(total));
    const copy = (from: Buffer, start: number, end: number) => {
      from.copy(out.buf, out.pos, start, end);
      out.pos += end - start;
    };
    for (const p of plan) {
      out.byte(tag(1, Wire.Len));
      out.varint(p.size);
      copy(head.buf, p.resourceAt, p.resourceEnd);
      for (const sc of p.scopes) {
        out.byte(tag(2, Wire.Len));
        out.varint(sc.size);
        copy(head.buf, sc.at, sc.schemaAt);
        for (const r of sc.runs) copy(this.staged.buf, r.start, r.end);
        copy(head.buf, sc.schemaAt, sc.end);
      }
      copy(head.buf, p.schemaAt, p.schemaEnd);
    }
    this.staged.pos = 0;
    this.runs = [];
    this.count = 0;
    return out.buf;
  }

  /**
   * Gives back a request `build` made, once nothing reads it any more, for the next request to be
   * written into. Sent buffers otherwise wait for V8 to collect them, and V8 collects them only when
   * tens of MB have piled up: the largest swing in an export's memory.
   */
  release(request: Uint8Array): void {
    if (this.free.length >= MAX_FREE_BUFFERS || request.byteOffset !== 0) return;
    this.free.push(Buffer.from(request.buffer, 0, request.buffer.byteLength));
  }

  private bufferFor(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    const buf = i >= 0 ? this.free.splice(i, 1)[0]! : Buffer.allocUnsafeSlow(Math.max(size, MIN_REQUEST_BUFFER));
    return buf.subarray(0, size);
  }
}

const MAX_FREE_BUFFERS = 4;
const MIN_REQUEST_BUFFER = 512 * 1024;

const requestWriter = new Writer();

/** One ExportTraceServiceRequest for these spans. */
export function encodeTraceRequest(spans: readonly ReadableSpan[]): Uint8Array {
  const b = new TraceRequestBuilder();
  for (const s of spans) b.add(s);
  return b.build();
}
