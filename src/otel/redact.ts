import { withinDepth } from '../cut.js';
import { GITLEAKS_RULES } from './redact-gitleaks.js';
import { entropy, HIGH_ENTROPY, highEntropy, isSecretName, looksSecret, OWN_RULES, type OwnRule } from './redact-rules.js';

// Finds secrets in text and replaces each with `[REDACTED:<rule>]`, counting by rule. Every rule
// runs on the original text; overlapping finds are merged, so one secret is one redaction.

interface Rule {
  id: string;
  re: RegExp;
  keywords?: readonly string[];
  entropy?: number;
  group?: number;
  skip?: number;
  check?: (secret: string, match: RegExpExecArray) => boolean;
}

/** A user's pattern that is not a regular expression: the CLI reports it as a usage error. */
export class PatternError extends Error {}

/** `(?i)` at the start is read as the case-insensitive flag, as gitleaks and most tools write it. */
export function compilePattern(pattern: string): RegExp {
  const insensitive = pattern.startsWith('(?i)');
  const source = insensitive ? pattern.slice(4) : pattern;
  let re: RegExp;
  try {
    re = new RegExp(source, `gd${insensitive ? 'i' : ''}`);
  } catch (err) {
    throw new PatternError(`not a regular expression: ${JSON.stringify(pattern)} (${(err as Error).message})`);
  }
  if (re.test('')) throw new PatternError(`pattern matches empty text: ${JSON.stringify(pattern)}`);
  return re;
}

function compile(r: OwnRule): Rule {
  return { id: r.id, re: new RegExp(r.source, `gd${r.flags}`), keywords: r.keywords, entropy: r.entropy, group: r.group, skip: r.skip, check: r.check };
}

const SHORTEST_SECRET = 8;
const MARK = '[REDACTED';

/** The rules in force: the user's patterns, then ours, then gitleaks'. Compiled once per set of patterns. */
export class RuleSet {
  private readonly rules: Rule[];
  private static readonly built = new Map<string, RuleSet>();

  private readonly keywordRe: RegExp;
  private readonly prefixes = new Map<string, string[]>();

  private constructor(patterns: readonly string[]) {
    this.rules = [
      ...patterns.map((p, i) => ({ id: `pattern-${i + 1}`, re: compilePattern(p) })),
      ...OWN_RULES.map(compile),
      ...GITLEAKS_RULES.map(compile),
    ];
    const words = [...new Set(this.rules.flatMap((r) => r.keywords ?? []))].sort((a, b) => b.length - a.length);
    for (const w of words) this.prefixes.set(w, words.filter((p) => w.startsWith(p)));
    this.keywordRe = new RegExp(`(?=(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')}))`, 'g');
  }

  /**
   * The rules' keywords found in the text, in one pass: a keyword found also stands for every
   * keyword it starts with (`sk_live` for `sk`), which the same pass cannot report at the same place.
   */
  private keywordsIn(text: string): Set<string> {
    const present = new Set<string>();
    const re = this.keywordRe;
    const lower = text.toLowerCase();
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(lower)) !== null) {
      const k = m[1] as string;
      if (!present.has(k)) for (const p of this.prefixes.get(k) ?? [k]) present.add(p);
      re.lastIndex++;
    }
    return present;
  }

  static of(patterns: readonly string[] = []): RuleSet {
    const key = patterns.join('\n');
    let set = RuleSet.built.get(key);
    if (!set) {
      set = new RuleSet(patterns);
      RuleSet.built.set(key, set);
    }
    return set;
  }

  /** Where the secrets are: sorted, merged ranges, each with the rule that found it first. */
  find(text: string, shapeless = true): { start: number; end: number; id: string }[] {
    if (text.length < SHORTEST_SECRET) return [];
    const present = this.keywordsIn(text);
    const found: { start: number; end: number; id: string }[] = [];
    for (const rule of this.rules) {
      if (rule.keywords && !rule.keywords.some((k) => present.has(k))) continue;
      const re = rule.re;
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        const [start, end] = secretOf(m, rule.group, rule.skip);
        if (end <= start) continue;
        const secret = text.slice(start, end);
        if (secret.startsWith(MARK)) continue;
        if (rule.entropy !== undefined && entropy(secret) < rule.entropy) continue;
        if (rule.check && !rule.check(secret, m)) continue;
        found.push({ start, end, id: rule.id });
      }
    }
    HIGH_ENTROPY.lastIndex = 0;
    let m: RegExpExecArray | null;
    while (shapeless && (m = HIGH_ENTROPY.exec(text)) !== null) {
      const token = m[0];
      if (!token.includes('/') || !token.split('/').some(isWord)) {
        if (highEntropy(token)) found.push({ start: m.index, end: m.index + token.length, id: 'high-entropy' });
        continue;
      }
      // a path or URL: only its random parts
      let at = m.index;
      for (const part of token.split('/')) {
        if (part.length >= 16 && highEntropy(part)) found.push({ start: at, end: at + part.length, id: 'high-entropy' });
        at += part.length + 1;
      }
    }
    return merge(found);
  }
}

/** The span of the secret in a match: the named group, else the longest group that matched, else all of it. */
function secretOf(m: RegExpExecArray, group: number | undefined, skip = 0): [number, number] {
  const indices = m.indices;
  if (!indices || indices.length <= 1) return [m.index, m.index + m[0].length];
  if (group !== undefined) return indices[group] ?? [0, 0];
  let best: [number, number] | undefined;
  for (let g = 1 + skip; g < indices.length; g++) {
    const r = indices[g];
    if (r && r[1] > r[0] && (!best || r[1] - r[0] > best[1] - best[0])) best = r;
  }
  return best ?? [m.index, m.index + m[0].length];
}

function merge(found: { start: number; end: number; id: string }[]): { start: number; end: number; id: string }[] {
  if (found.length <= 1) return found;
  // by start, the rule listed first winning a tie (the sort is stable)
  found.sort((a, b) => a.start - b.start);
  const out = [found[0] as { start: number; end: number; id: string }];
  for (let i = 1; i < found.length; i++) {
    const f = found[i] as { start: number; end: number; id: string };
    const last = out[out.length - 1] as { start: number; end: number; id: string };
    if (f.start < last.end) last.end = Math.max(last.end, f.end);
    else out.push({ ...f });
  }
  return out;
}

/** Short values that recur on every span (models, tools, paths) are looked up, not scanned again. */
const CACHED_LENGTH = 256;
const CACHE_SIZE = 4096;

/**
 * Redacts text and JSON-like values with one rule set, and counts what it redacted by rule. One per
 * thread mapped; the counts are read into the session's report.
 */
export class Redactor {
  readonly counts: Record<string, number> = {};
  private readonly texts = new Map<string, { out: string; ids: string[] }>();
  private readonly labels = new Map<string, { out: string; ids: string[] }>();

  constructor(private readonly rules: RuleSet) {}

  /** Free text: every rule, the high-entropy one included. */
  text(s: string): string {
    return this.redact(s, true, this.texts);
  }

  /**
   * A name or path (a model, a tool, a directory): every rule but the high-entropy one, which
   * would take a file name with a UUID in it for a key.
   */
  label(s: string): string {
    return this.redact(s, false, this.labels);
  }

  private redact(s: string, shapeless: boolean, cache: Map<string, { out: string; ids: string[] }>): string {
    if (s.length < SHORTEST_SECRET) return s;
    if (s.length <= CACHED_LENGTH) {
      let hit = cache.get(s);
      if (!hit) {
        if (cache.size >= CACHE_SIZE) cache.clear();
        const ids: string[] = [];
        hit = { out: this.scan(s, ids, shapeless), ids };
        cache.set(s, hit);
      }
      for (const id of hit.ids) this.count(id);
      return hit.out;
    }
    const ids: string[] = [];
    const out = this.scan(s, ids, shapeless);
    for (const id of ids) this.count(id);
    return out;
  }

  /**
   * A copy of a JSON-like value with every string redacted, and the whole value of any field whose
   * name says it is secret (`"password": …`). A string that is itself JSON is read and redacted the
   * same way, so a secret inside an escaped string is found as plainly as any other.
   */
  value(v: unknown, name?: string): unknown {
    if (name !== undefined && isSecretName(name) && (typeof v === 'string' || typeof v === 'number') && looksSecret(String(v))) {
      this.count('secret-field');
      return '[REDACTED:secret-field]';
    }
    if (typeof v === 'string') return name !== undefined && ID_NAME.test(name) && v.length <= 128 ? v : this.string(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[this.text(k)] = this.value(x, k);
      return out;
    }
    return v;
  }

  private string(s: string): string {
    const c = s.charCodeAt(0);
    if ((c === 123 || c === 91) && s.length >= SHORTEST_SECRET) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(s);
      } catch {
        parsed = undefined;
      }
      if (parsed !== undefined && typeof parsed === 'object') {
        const before = this.total();
        const out = this.value(withinDepth(parsed, 0));
        return this.total() === before ? s : JSON.stringify(out);
      }
    }
    return this.text(s);
  }

  private scan(s: string, ids: string[], shapeless: boolean): string {
    const found = this.rules.find(s, shapeless);
    if (found.length === 0) return s;
    let out = '';
    let at = 0;
    for (const f of found) {
      out += `${s.slice(at, f.start)}[REDACTED:${f.id}]`;
      at = f.end;
      ids.push(f.id);
    }
    return out + s.slice(at);
  }

  private count(id: string): void {
    this.counts[id] = (this.counts[id] ?? 0) + 1;
  }

  private total(): number {
    let n = 0;
    for (const k in this.counts) n += this.counts[k] as number;
    return n;
  }
}

/** A word between slashes (`com`, `photos`, `src`): what makes a token a path, not base64. */
function isWord(part: string): boolean {
  return part.length >= 3 && /^[A-Za-z]+$/.test(part) && (part.match(/[aeiouAEIOU]/g)?.length ?? 0) / part.length >= 0.25;
}

/** Fields of messages that hold ids (`id`, `call_id`): opaque, never scanned. */
const ID_NAME = /^(?:id|[a-z_]*_id)$/;

/** Adds one report's counts to another's. */
export function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>> | undefined): void {
  if (from) for (const k in from) into[k] = (into[k] ?? 0) + (from[k] as number);
}
