import type { ContentPart } from '../../model/types.js';
import { contentText } from '../text.js';
import { isObject } from '../json.js';

// Responses API items (the request `input` and the response `output_items` recorded in payload
// files) as content parts. Only used when content capture is on.

type Item = Record<string, unknown>;

const isItem: (v: unknown) => v is Item = isObject;

/** What the model produced. Encrypted reasoning is left out; its readable summary is kept. */
export function outputParts(items: unknown[] | null | undefined): ContentPart[] | undefined {
  if (!items) return undefined;
  return items.filter(isItem).flatMap((item) => partOf(item) ?? []);
}

/** The input that was new to this request: everything after the model's last output in it. */
export function newInputParts(items: unknown[] | null | undefined): ContentPart[] | undefined {
  if (!items) return undefined;
  const all = items.filter(isItem);
  let from = all.length;
  while (from > 0 && !producedByModel(all[from - 1] as Item)) from--;
  return all.slice(from).flatMap((item) => partOf(item) ?? []);
}

function producedByModel(item: Item): boolean {
  if (item.type === 'message') return item.role === 'assistant';
  return item.type === 'reasoning' || item.type === 'function_call' || item.type === 'custom_tool_call' || item.type === 'local_shell_call';
}

function partOf(item: Item): ContentPart | undefined {
  switch (item.type) {
    case 'message': {
      const role = item.role === 'assistant' ? 'assistant' : item.role === 'user' ? 'user' : undefined;
      const text = contentText(item.content);
      return role && text ? { type: 'text', role, text } : undefined;
    }
    case 'reasoning': {
      const text = contentText(item.summary);
      return text ? { type: 'reasoning', text } : undefined;
    }
    case 'function_call':
    case 'custom_tool_call':
      return {
        type: 'tool_call',
        id: typeof item.call_id === 'string' ? item.call_id : undefined,
        name: String(item.name ?? 'unknown'),
        arguments: typeof item.arguments === 'string' ? item.arguments : typeof item.input === 'string' ? item.input : undefined,
      };
    case 'function_call_output':
    case 'custom_tool_call_output':
      return { type: 'tool_result', id: String(item.call_id ?? ''), result: item.output };
    default:
      return undefined;
  }
}

