// A leaf module (no stage): decoders and the content policy both cut values nested past this.

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
