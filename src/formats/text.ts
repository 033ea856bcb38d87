/**
 * The text of a message's content as agents record it: a plain string, an object with `text`, or
 * an array of parts (`input_text`, `output_text`, `summary_text` …) whose texts are joined by lines.
 */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map(partText).filter(Boolean).join('\n');
  return partText(content);
}

function partText(part: unknown): string {
  if (typeof part === 'string') return part;
  if (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string') return (part as { text: string }).text;
  return '';
}
