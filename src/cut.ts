// A leaf module (no stage): how a value too deep or a text too long is cut, for every stage.

/** Content nested deeper than this is replaced by a marker: JSON.stringify recurses, and 10,000 levels overflow the stack. */
export const MAX_CONTENT_DEPTH = 64;

export function withinDepth(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_CONTENT_DEPTH) return `[nested ${levelsOf(value).toLocaleString('en-US')} levels deeper than the ${MAX_CONTENT_DEPTH}-level content limit: cut]`;
  if (Array.isArray(value)) return value.map((v) => withinDepth(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = withinDepth(v, depth + 1);
  return out;
}

/** How deep a value nests, counted without recursion. */
function levelsOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    for (const c of Object.values(v)) stack.push([c, d + 1]);
  }
  return max;
}

/** `text` cut at `limit` characters (never inside a surrogate pair), saying how much was left out. */
export function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cut = limit;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${text.slice(0, cut)}…[truncated ${text.length - cut} chars]`;
}
