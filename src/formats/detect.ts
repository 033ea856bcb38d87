import { basename } from 'node:path';
import { CodexDecoder } from './codex/decoder.js';
import type { LineDecoder } from './decoder.js';
import { isObject } from './json.js';
import { GenericDecoder } from './generic/decoder.js';

export const FORMATS = ['codex', 'generic', 'codex-trace'] as const;
export type FormatName = (typeof FORMATS)[number];

/** Recognises a file's dialect from its first JSON line. */
export function detectFormat(first: unknown): FormatName | undefined {
  if (!first || typeof first !== 'object' || Array.isArray(first)) return undefined;
  const v = first as Record<string, unknown>;
  if (typeof v.schema_version === 'number' && 'rollout_id' in v && isObject(v.payload)) return 'codex-trace';
  // Codex envelopes carry `payload`; pre-envelope files open with a bare session record.
  if (typeof v.type === 'string' && isObject(v.payload)) return 'codex';
  if (v.record_type !== undefined || (typeof v.id === 'string' && typeof v.timestamp === 'string' && !('type' in v))) return 'codex';
  if (typeof v.type === 'string' && (typeof v.seq === 'number' || isObject(v.item))) return 'generic';
  return undefined;
}

export interface DecoderContext {
  path: string;
  fallbackThreadId?: string;
  /** the file's modification time, where lines without times are laid out (read only by formats that need it) */
  mtimeMs: () => number;
}

export function decoderFor(format: Exclude<FormatName, 'codex-trace'>, ctx: DecoderContext): LineDecoder {
  if (format === 'codex') return new CodexDecoder();
  return new GenericDecoder({ fallbackThreadId: ctx.fallbackThreadId ?? basename(ctx.path).replace(/\.jsonl(\.zst)?$/, ''), fallbackStart: ctx.mtimeMs() });
}
