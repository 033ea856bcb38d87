import type { DecodeWarning } from '../model/events.js';

// What became of one input, kept apart from the pipeline so the CLI can report on inputs it never
// opened without loading the pipeline.

export interface SessionReport {
  path: string;
  threadId?: string;
  traceId?: string;
  lines: number;
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
}

const MAX_SAMPLES = 20;

/** A report of nothing read yet, or of an input that could not be read at all. */
export function newReport(path: string, error?: string): SessionReport {
  const report: SessionReport = { path, lines: 0, spans: 0, turns: 0, warnings: 0, badLines: 0, samples: [] };
  if (error !== undefined) report.error = error;
  return report;
}

/** Counts a line that was not fully understood, by kind, and keeps the first few to show. */
export function noteProblem(report: SessionReport, w: DecodeWarning, kind: 'warnings' | 'badLines' | 'gaps'): void {
  report[kind] = (report[kind] ?? 0) + 1;
  if (report.samples.length < MAX_SAMPLES) report.samples.push(w);
}
