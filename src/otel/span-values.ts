import type { Attributes } from '@opentelemetry/api';
import type { TokenUsage, ToolSummary } from '../model/events.js';
import type { Privacy } from './content.js';
import { CURRENCY, roundCost } from './cost.js';
import type { ContentPart } from '../model/types.js';

// Small pure helpers that turn domain values into span attribute values and times.

type Value = string | number | boolean | undefined;

// Attributes are written in place, skipping empty values: building them as object literals and
// filtering copies cost more than any other step of the mapping.
export function put(a: Attributes, key: string, value: Value): void {
  if (value !== undefined && value !== '') a[key] = value;
}

export function putUsage(a: Attributes, u: TokenUsage | undefined): void {
  if (!u) return;
  put(a, 'gen_ai.usage.input_tokens', u.input);
  put(a, 'gen_ai.usage.output_tokens', u.output);
  put(a, 'gen_ai.usage.cache_read.input_tokens', u.cachedInput);
  put(a, 'gen_ai.usage.reasoning.output_tokens', u.reasoningOutput);
  put(a, 'gen_ai.usage.cache_write.input_tokens', u.cacheWriteInput);
  // the same counts as OpenInference readers (Phoenix, Arize) want them
  put(a, 'llm.token_count.prompt', u.input);
  put(a, 'llm.token_count.completion', u.output);
  put(a, 'llm.token_count.total', u.input + u.output);
  put(a, 'llm.token_count.prompt_details.cache_read', u.cachedInput);
  put(a, 'llm.token_count.prompt_details.cache_write', u.cacheWriteInput);
  put(a, 'llm.token_count.completion_details.reasoning', u.reasoningOutput);
}

/** A price in USD, priced here from the price library's data (`source = local`). */
export function putCost(a: Attributes, amount: number | undefined): void {
  if (amount === undefined) return;
  const rounded = roundCost(amount);
  a['gen_ai.usage.cost.amount'] = rounded;
  a['gen_ai.usage.cost.currency'] = CURRENCY;
  a['gen_ai.usage.cost.source'] = 'local';
  a['llm.cost.total'] = rounded;
}

/** What a tool call did, without content: always; its command line, paths and query: content only. */
export function putSummary(a: Attributes, s: ToolSummary | undefined, privacy: Privacy): void {
  if (!s) return;
  put(a, 'process.executable.name', s.executable);
  put(a, 'codex.command.kind', s.commandKind);
  put(a, 'codex.patch.files_added', s.filesAdded);
  put(a, 'codex.patch.files_updated', s.filesUpdated);
  put(a, 'codex.patch.files_deleted', s.filesDeleted);
  put(a, 'codex.patch.hunks', s.hunks);
  put(a, 'codex.web_search.action', s.searchAction);
  put(a, 'process.command_line', privacy.content('tool-arguments', s.command));
  put(a, 'codex.patch.paths', privacy.content('tool-arguments', s.paths?.join('\n')));
  put(a, 'codex.web_search.query', privacy.content('tool-arguments', s.query));
}

/** The short fact a tool row shows after its name: the program, the patch's size, the search action. */
export function summaryLabel(s: ToolSummary | undefined): string | undefined {
  if (!s) return undefined;
  if (s.executable) return s.executable;
  if (s.filesAdded !== undefined) {
    const files = (s.filesAdded ?? 0) + (s.filesUpdated ?? 0) + (s.filesDeleted ?? 0);
    return `${files} file${files === 1 ? '' : 's'}`;
  }
  return s.searchAction;
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

/** Recorded facts, named by `keys`, plus the mark of a span closed at the last recorded time. */
export function putFacts<F extends object>(a: Attributes, incomplete: boolean | undefined, facts: F | undefined, keys: { readonly [K in keyof F]-?: string }): void {
  if (facts) for (const k in facts) put(a, keys[k], facts[k] as Value);
  if (incomplete) a['codex.incomplete'] = true;
}

export function us(ms: number): number {
  return Math.round(ms * 1000);
}

export function hr(micros: number): [number, number] {
  const sec = Math.floor(micros / 1e6);
  return [sec, (micros - sec * 1e6) * 1000];
}
