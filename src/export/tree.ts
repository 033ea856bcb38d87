import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { TREE_LABELS, valueOf } from '../otel/vocabulary.js';

/** Renders spans as an indented tree: name, duration and a few key attributes per span. */
export function renderTree(spans: ReadableSpan[]): string {
  const children = new Map<string, ReadableSpan[]>();
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const roots: ReadableSpan[] = [];
  for (const s of spans) {
    const parent = s.parentSpanContext?.spanId;
    if (parent && ids.has(parent)) {
      const list = children.get(parent) ?? [];
      list.push(s);
      children.set(parent, list);
    } else roots.push(s);
  }
  const lines: string[] = [];
  const walk = (s: ReadableSpan, prefix: string, last: boolean, top: boolean) => {
    const attrs: string[] = [];
    for (const [key, label] of TREE_LABELS) {
      const value = valueOf(s.attributes, key);
      if (value !== undefined) attrs.push(`${label}=${String(value)}`);
    }
    lines.push(`${prefix}${top ? '' : last ? '└─ ' : '├─ '}${s.name}  ${formatDuration(s)}${attrs.length ? `  ${attrs.join(' ')}` : ''}`);
    const kids = (children.get(s.spanContext().spanId) ?? []).sort((a, b) => start(a) - start(b));
    kids.forEach((k, i) => walk(k, top ? prefix : prefix + (last ? '   ' : '│  '), i === kids.length - 1, false));
  };
  roots.sort((a, b) => start(a) - start(b)).forEach((r) => walk(r, '', true, true));
  return lines.join('\n');
}

function start(s: ReadableSpan): number {
  return s.startTime[0] * 1e9 + s.startTime[1];
}

function formatDuration(s: ReadableSpan): string {
  const us = (s.endTime[0] - s.startTime[0]) * 1e6 + (s.endTime[1] - s.startTime[1]) / 1000;
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(1)}ms`;
  if (us < 60e6) return `${(us / 1e6).toFixed(2)}s`;
  const m = Math.floor(us / 60e6);
  return `${m}m${Math.round((us - m * 60e6) / 1e6)}s`;
}
