// Content capture is opt-in; when on, obvious secrets are masked and each value is cut to a limit.

export interface ContentPolicy {
  capture: boolean;
  /** maximum characters per attribute value */
  limit: number;
}

export const DEFAULT_CONTENT_LIMIT = 16 * 1024;

const SECRETS: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[REDACTED PRIVATE KEY]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [REDACTED]'],
  [/\b(sk|pk|rk)-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}/g, '[REDACTED API KEY]'],
  [/\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/g, '[REDACTED TOKEN]'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, '[REDACTED TOKEN]'],
  [/\bAKIA[0-9A-Z]{16}\b/g, '[REDACTED AWS KEY]'],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, '[REDACTED API KEY]'],
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, '$1:[REDACTED]@'],
  [/\b((?:api[_-]?key|secret|password|passwd|token|access[_-]?key)["']?\s*[:=]\s*["']?)[^\s"',;]{6,}/gi, '$1[REDACTED]'],
];

export function redact(text: string): string {
  let out = text;
  for (const [re, replacement] of SECRETS) out = out.replace(re, replacement);
  return out;
}

export function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cut = limit;
  // do not split a surrogate pair
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${text.slice(0, cut)}…[truncated ${text.length - cut} chars]`;
}

export function contentValue(value: unknown, policy: ContentPolicy): string | undefined {
  if (!policy.capture || value === undefined) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(withinDepth(value, 0));
  return truncate(redact(text), policy.limit);
}

/** Content nested deeper than this is replaced by a marker: JSON.stringify recurses, and 10,000 levels overflow the stack. */
export const MAX_CONTENT_DEPTH = 64;

function withinDepth(value: unknown, depth: number): unknown {
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
