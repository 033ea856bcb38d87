import type { Attributes } from '@opentelemetry/api';
import type { TokenUsage } from '../model/events.js';
import type { Attributes as Facts, ContentPart } from '../model/types.js';

// Small pure helpers that turn domain values into span attribute values and times.

export function usageAttributes(u: TokenUsage | undefined): Attributes {
  if (!u) return {};
  return compact({
    'gen_ai.usage.input_tokens': u.input,
    'gen_ai.usage.output_tokens': u.output,
    'gen_ai.usage.cache_read.input_tokens': u.cachedInput,
    'gen_ai.usage.reasoning.output_tokens': u.reasoningOutput,
    'gen_ai.usage.cache_write.input_tokens': u.cacheWriteInput,
  });
}

export function messages(parts: ContentPart[], side: 'input' | 'output'): unknown[] | undefined {
  if (parts.length === 0) return undefined;
  const out: { role: string; parts: unknown[] }[] = [];
  for (const p of parts) {
    const role = p.type === 'tool_result' ? 'tool' : p.type === 'text' ? p.role : 'assistant';
    const part =
      p.type === 'text' ? { type: 'text', content: p.text }
      : p.type === 'reasoning' ? { type: 'reasoning', content: p.text }
      : p.type === 'tool_call' ? { type: 'tool_call', id: p.id, name: p.name, arguments: p.arguments }
      : { type: 'tool_call_response', id: p.id, response: p.result };
    const last = out.at(-1);
    if (last && last.role === role && side === 'output') last.parts.push(part);
    else out.push({ role, parts: [part] });
  }
  return out;
}

/** Recorded extra facts, plus the mark of a span closed at the last recorded time. */
export function facts(incomplete: boolean | undefined, extra: Facts | undefined): Record<string, string | number | boolean | undefined> {
  return { ...extra, 'codex.incomplete': incomplete || undefined };
}

export function compact(attrs: Record<string, string | number | boolean | undefined>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

export function us(ms: number): number {
  return Math.round(ms * 1000);
}

export function hr(micros: number): [number, number] {
  const sec = Math.floor(micros / 1e6);
  return [sec, (micros - sec * 1e6) * 1000];
}
