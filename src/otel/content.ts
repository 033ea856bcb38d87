import { MAX_NAME_CHARS } from '../model/names.js';
import { truncate, withinDepth } from '../cut.js';
import type { Attributes } from '@opentelemetry/api';
import type { ContentPart } from '../model/types.js';
import { Redactor, RuleSet } from './redact.js';
import { messages } from './span-values.js';

// What free text may leave, and how. Free text (prompts, messages, tool arguments and results,
// commands, error messages, thread names) is content: off by default, opt-in by field, and redacted
// before it is JSON-encoded. Everything else a span carries is a name, an id, a number or a class
// word; names are still scanned for secrets, and class words that are not words become `_OTHER`.

/** The kinds of free text a user can choose to capture. */
export const CONTENT_FIELDS = ['prompts', 'outputs', 'tool-arguments', 'tool-results', 'errors'] as const;
export type ContentField = (typeof CONTENT_FIELDS)[number];

export interface ContentPolicy {
  /** some free text is captured (inputs keep content in memory only then) */
  capture: boolean;
  /** maximum characters per attribute value */
  limit: number;
  /** the free text captured when `capture` is on; every field when absent */
  fields?: readonly ContentField[];
  /** more secrets to redact: regular expressions, `(?i)` in front for any case */
  patterns?: readonly string[];
}

export const DEFAULT_CONTENT_LIMIT = 16 * 1024;
/** The longest value of a fact that is not content on a span: the model's limit on names (bundles and resources are cut here too). */
export const MAX_FACT_CHARS = MAX_NAME_CHARS;

/** Content options as the library takes them. */
export interface ContentOptions {
  /** every kind of free text */
  captureContent?: boolean;
  /** only these kinds of free text */
  capture?: readonly ContentField[];
  contentLimit?: number;
  /** more secrets to redact: regular expressions, `(?i)` in front for any case */
  redactPatterns?: readonly string[];
}

export function contentPolicyOf(o: ContentOptions): ContentPolicy {
  const fields = o.captureContent ? undefined : o.capture ?? [];
  return { capture: fields === undefined || fields.length > 0, limit: o.contentLimit ?? DEFAULT_CONTENT_LIMIT, fields, patterns: o.redactPatterns };
}

/** Attributes that carry content; they are redacted where they are written. */
const CONTENT_KEYS = new Set(['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result', 'process.command_line']);
/** Captured content that is still scanned as a label; cut by the content limit, not the fact limit. */
const CAPTURED_KEYS = new Set(['input.value', 'output.value', 'codex.patch.paths', 'codex.web_search.query', 'exception.message', 'codex.thread.name']);
/** Ids are opaque and unique: scanning them finds nothing and defeats the cache. */
const ID_KEY = /(?:[._]id|\.revision)$/;
/** Low-cardinality classes: a word, a code, never a sentence. */
const CLASS_KEY = /^(?:error\.type|exception\.type)$|status$/;
/** Why work stopped: a word, or a recorded sentence that is free text like an error message. */
const REASON_KEY = /reason$/;
const CLASS_WORD = /^[\w.:/-]{1,64}$/;
/** Text beyond the limit is cut before it is scanned; the margin keeps a secret at the cut whole. */
const SCAN_MARGIN = 4096;

export const OTHER_CLASS = '_OTHER';

/** A low-cardinality class as exported: the value when it is a word or code, else `_OTHER`. */
export function classOf(value: string): string {
  return CLASS_WORD.test(value) ? value : OTHER_CLASS;
}

/** The content policy of one thread's spans, with the redactor that counts what it hid. */
export class Privacy {
  readonly redactor: Redactor;
  private readonly fields: ReadonlySet<ContentField>;
  private readonly kinds = new Map<string, 'content' | 'id' | 'class' | 'reason' | 'label'>();

  constructor(private readonly policy: ContentPolicy) {
    this.redactor = new Redactor(RuleSet.of(policy.patterns));
    this.fields = new Set(policy.capture ? (policy.fields ?? CONTENT_FIELDS) : []);
  }

  captures(field: ContentField): boolean {
    return this.fields.has(field);
  }

  /** A captured value, redacted, JSON-encoded if it is not text, and cut to the limit. */
  content(field: ContentField, value: unknown): string | undefined {
    if (value === undefined || !this.fields.has(field)) return undefined;
    return this.encode(value);
  }

  /**
   * Redacted, then cut to the limit. A structured value stays valid JSON: its longest strings are cut
   * first, shorter and shorter, and only if that is not enough is the JSON itself cut.
   */
  private encode(value: unknown): string {
    const redacted = this.redactor.value(this.cut(withinDepth(value, 0), this.policy.limit + SCAN_MARGIN));
    const limit = this.policy.limit;
    if (typeof redacted === 'string') return truncate(redacted, limit);
    let json = JSON.stringify(redacted);
    for (let leaf = limit; json.length > limit && leaf >= 32; leaf = Math.floor(leaf / 2)) json = JSON.stringify(this.cut(redacted, leaf, true));
    return truncate(json, limit);
  }

  /** Messages as GenAI JSON, of the parts whose field is captured. */
  messages(parts: ContentPart[] | undefined, side: 'input' | 'output'): string | undefined {
    if (!parts || this.fields.size === 0) return undefined;
    const kept = parts.filter((p) => this.fields.has(fieldOf(p)));
    const m = messages(kept, side);
    return m && this.encode(m);
  }

  /**
   * The status description of a failed span: our own words for it (else its class), and what the
   * input recorded about it when errors are captured.
   */
  status(error: { type: string; message?: string; words?: string }): string {
    const words = error.words ?? classOf(error.type);
    if (error.message === undefined || error.message === '' || !this.fields.has('errors')) return words;
    const text = this.content('errors', error.message);
    if (text === undefined) return words;
    return error.words ? `${error.words}: ${text}` : text;
  }

  /** A recorded reason (why a turn was aborted): a word as it is; free text only when errors are captured. */
  reason(value: string): string {
    return CLASS_WORD.test(value) ? this.redactor.label(value) : (this.content('errors', value) ?? OTHER_CLASS);
  }

  /** Span names carry tool, model and agent names as recorded. */
  name(name: string): string {
    return this.redactor.label(truncate(name, MAX_FACT_CHARS));
  }

  /** Every attribute but content, checked: ids as they are, classes as words, the rest scanned. */
  attributes(a: Attributes): Attributes {
    for (const key in a) {
      const v = a[key];
      if (typeof v !== 'string') continue;
      const kind = this.kindOf(key);
      if (kind === 'content') continue;
      if (v.length > MAX_FACT_CHARS && !CAPTURED_KEYS.has(key)) a[key] = truncate(v, MAX_FACT_CHARS);
      if (kind === 'class') a[key] = this.redactor.label(classOf(v));
      else if (kind === 'reason') a[key] = CLASS_WORD.test(v) ? this.redactor.label(v) : (this.content('errors', v) ?? OTHER_CLASS);
      else if (kind === 'label') a[key] = this.redactor.label(a[key] as string);
    }
    return a;
  }

  /** An event's attributes: an exception's message and a thread's new name are free text. */
  event(a: Attributes): Attributes {
    const out: Attributes = {};
    for (const key in a) {
      const v = a[key];
      if (key === 'exception.message') {
        const text = this.content('errors', v);
        if (text !== undefined) out[key] = text;
      } else if (key === 'codex.thread.name') {
        const text = this.content('prompts', v);
        if (text !== undefined) out[key] = text;
      } else {
        out[key] = v;
      }
    }
    return this.attributes(out);
  }

  private kindOf(key: string): 'content' | 'id' | 'class' | 'reason' | 'label' {
    let kind = this.kinds.get(key);
    if (!kind) {
      kind = CONTENT_KEYS.has(key) ? 'content' : ID_KEY.test(key) ? 'id' : CLASS_KEY.test(key) ? 'class' : REASON_KEY.test(key) ? 'reason' : 'label';
      this.kinds.set(key, kind);
    }
    return kind;
  }

  /** Strings cut to `max` characters: before scanning (what is cut never leaves), or with a marker to fit. */
  private cut(value: unknown, max: number, mark = false): unknown {
    if (typeof value === 'string') return value.length <= max ? value : mark ? truncate(value, max) : value.slice(0, max);
    if (Array.isArray(value)) return value.map((v) => this.cut(v, max, mark));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.cut(v, max, mark);
      return out;
    }
    return value;
  }
}

function fieldOf(p: ContentPart): ContentField {
  switch (p.type) {
    case 'text':
      return p.role === 'user' ? 'prompts' : 'outputs';
    case 'reasoning':
      return 'outputs';
    case 'tool_call':
      return 'tool-arguments';
    case 'tool_result':
      return 'tool-results';
  }
}
