import crypto from 'node:crypto';

// Ids are hashes of the rollout's own ids, so exporting the same file twice, live or as
// backfill, in any order, yields the same trace and span ids.

// crypto.hash (Node ≥ 20.12) is a one-shot digest, much cheaper than a Hash object per id.
const oneShot = (crypto as unknown as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;

function hexDigest(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

export function traceIdFor(rootThreadId: string): string {
  const hex = hexDigest(`rollout-otel/trace/${rootThreadId}`).slice(0, 32);
  // Jaeger prints trace ids with a zero upper half as 16 hex chars; keep the upper half non-zero.
  return hex.startsWith('0000000000000000') ? `01${hex.slice(2)}` : hex;
}

export function spanIdFor(key: string): string {
  const hex = hexDigest(`rollout-otel/span/${key}`).slice(0, 16);
  return hex === '0000000000000000' ? '0000000000000001' : hex;
}

export const spanKeys = {
  thread: (threadId: string) => `thread/${threadId}`,
  turn: (threadId: string, turnId: string | undefined, index: number) => `turn/${threadId}/${turnId ?? `#${index}`}`,
  chat: (threadId: string, index: number) => `chat/${threadId}/${index}`,
  tool: (threadId: string, key: string) => `tool/${threadId}/${key}`,
  compaction: (threadId: string, index: number) => `compaction/${threadId}/${index}`,
  // inputs that record ids of their own (trace bundles) name spans by them rather than by position
  inference: (threadId: string, callId: string) => `inference/${threadId}/${callId}`,
  compactionById: (threadId: string, compactionId: string) => `compaction-id/${threadId}/${compactionId}`,
  compactionRequest: (threadId: string, requestId: string) => `compaction-request/${threadId}/${requestId}`,
  terminal: (threadId: string, toolKey: string) => `terminal/${threadId}/${toolKey}`,
};

/**
 * A trace bundle's trace: the 32 hex digits of its recorded trace UUID, so the two can be matched by
 * eye; a hash of its root thread when it records none that can be used.
 */
export function bundleTraceId(recordedUuid: string | undefined, rootThreadId: string): string {
  const hex = recordedUuid?.replace(/-/g, '').toLowerCase();
  if (hex && /^[0-9a-f]{32}$/.test(hex) && !/^0{16}/.test(hex)) return hex;
  return traceIdFor(`bundle/${rootThreadId}`);
}

/**
 * A session that goes on after its thread span was delivered (a resume after an idle close, a file
 * exported while still being written) continues in a trace of its own, one per segment: a span
 * once delivered is never sent again in another version.
 */
export function segmentTraceId(traceId: string, segment: number): string {
  return segment === 0 ? traceId : traceIdFor(`${traceId}/segment/${segment}`);
}

/**
 * The thread id of a rollout that records none (no session id, no id in its file name): a hash of
 * its first line, so every copy of the file agrees, under any name, and two sessions do not.
 */
export function threadIdFromContent(firstLine: string): string {
  return `file-${hexDigest(`rollout-otel/thread/${firstLine}`).slice(0, 32)}`;
}
