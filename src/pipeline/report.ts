import type { Delivery } from '../export/sink.js';
import type { DecodeWarning, TokenUsage } from '../model/events.js';
import { truncate } from '../cut.js';
import { addUnpricedNames } from '../otel/cost.js';

// What became of one input, kept apart from the pipeline so the CLI can report on inputs it never
// opened without loading the pipeline.

export interface SessionReport {
  path: string;
  threadId?: string;
  traceId?: string;
  lines: number;
  /** the last whole line read (a half-written last line is not), and the bytes up to its end (of the decompressed text for an archive) */
  through?: number;
  bytes?: number;
  spans: number;
  turns: number;
  /** lines whose type or shape is unknown: reported, nothing derived from them */
  warnings: number;
  /** lines that are not JSON at all (a truncated last line among them) */
  badLines: number;
  /** records understood but not fully usable: a payload file missing or refused, an end without its start */
  gaps?: number;
  samples: DecodeWarning[];
  /** the file could not be read, or is not a rollout */
  error?: string;
  /** the input dialect (its name), once recognised */
  format?: string;
  /** values redacted in the exported spans, by rule */
  redactions?: Readonly<Record<string, number>>;
  /** tokens and local cost of the model calls, summed over the input's threads */
  usage?: UsageTotals;
}

export interface UsageTotals {
  input: number;
  cachedInput: number;
  cacheWriteInput: number;
  output: number;
  reasoningOutput: number;
  /** USD, of the priced calls */
  cost: number;
  pricedCalls: number;
  unpricedCalls: number;
  /** models of the calls that have no price */
  unpricedModels: string[];
}

/** Adds one thread's totals (`ThreadMapper.totals()`) to its input's report. */
export function addUsageTotals(report: SessionReport, t: { usage: TokenUsage; cost: { amount: number; priced: number; unpriced: number }; unpricedModels: string[] }): void {
  const u = (report.usage ??= { input: 0, cachedInput: 0, cacheWriteInput: 0, output: 0, reasoningOutput: 0, cost: 0, pricedCalls: 0, unpricedCalls: 0, unpricedModels: [] });
  u.input += t.usage.input;
  u.cachedInput += t.usage.cachedInput;
  u.cacheWriteInput += t.usage.cacheWriteInput ?? 0;
  u.output += t.usage.output;
  u.reasoningOutput += t.usage.reasoningOutput;
  u.cost += t.cost.amount;
  u.pricedCalls += t.cost.priced;
  u.unpricedCalls += t.cost.unpriced;
  addUnpricedNames(u.unpricedModels, t.unpricedModels);
}

const MAX_SAMPLES = 20;
/** a warning quotes at most this much of what the line held (a type, a field name) */
const MAX_QUOTE = 200;

/** What the library says of one input it exported (a file, or a live session): what was read, and how many spans arrived. */
export interface ExportReport extends SessionReport {
  delivered: number;
  notDelivered: number;
}

/** What became of one input: what was read of it, and what of its spans reached the backend. */
export interface InputOutcome {
  report: SessionReport;
  /** final once the sink that sent its spans has closed */
  delivery: Delivery;
  /** found in a directory walk but in no rollout format: not an error */
  skipped?: boolean;
  /** read, but it holds nothing beyond what was delivered before */
  unchanged?: boolean;
  /** not read: the delivery ledger says the backend has it all, or has it with the other content setting; or another copy of it is sent */
  alreadyDelivered?: 'delivered' | 'content' | 'copy';
}



/** A report of nothing read yet, or of an input that could not be read at all. */
export function newReport(path: string, error?: string): SessionReport {
  const report: SessionReport = { path, lines: 0, spans: 0, turns: 0, warnings: 0, badLines: 0, samples: [] };
  if (error !== undefined) report.error = error;
  return report;
}

/** Counts a line that was not fully understood, by kind, and keeps the first few to show. */
export function noteProblem(report: SessionReport, w: DecodeWarning, kind: 'warnings' | 'badLines' | 'gaps'): void {
  report[kind] = (report[kind] ?? 0) + 1;
  if (report.samples.length < MAX_SAMPLES) report.samples.push({ ...w, type: truncate(w.type, MAX_QUOTE), message: truncate(w.message, MAX_QUOTE) });
}
