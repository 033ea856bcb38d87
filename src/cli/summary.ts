import type { Delivery, SpanSink } from '../export/sink.js';
import type { SessionReport } from '../pipeline/report.js';

export const EXIT = {
  ok: 0,
  /** spans were built but not delivered */
  notDelivered: 1,
  usage: 2,
  /** an input could not be read, or had lines that are not JSON */
  badInput: 3,
  /** everything built was delivered, but some lines were not understood (listed as warnings) */
  warnings: 4,
} as const;

/** A flag with a value that cannot be used: exit code 2 */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

export interface SessionOutcome {
  report: SessionReport;
  delivery: Delivery;
  /** found in a directory walk but in no rollout format: not an error */
  skipped?: boolean;
}

interface SummaryOptions {
  sink: Pick<SpanSink, 'target' | 'stats'> | undefined;
  /** threads that exported at once */
  threads?: number;
  dryRun: boolean;
  quiet: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

// counts as en-US writes them (1,234), without the ICU start-up toLocaleString costs
const n = (x: number) => (Number.isSafeInteger(x) && !Object.is(x, -0) ? String(x).replace(/\B(?=(\d{3})+$)/g, ',') : x.toLocaleString('en-US'));

export function printSummary(outcomes: SessionOutcome[], o: SummaryOptions): number {
  const ui = o.sink ? jaegerUi(o.sink.target) : undefined;
  const read = outcomes.filter((s) => s.report.traceId);
  const unreadable = outcomes.filter((s) => s.report.error && !s.skipped);
  const skipped = outcomes.filter((s) => s.skipped);
  // a file skipped as no rollout says nothing about its lines
  const considered = outcomes.filter((s) => !s.skipped);
  const withBadLines = considered.filter((s) => s.report.badLines > 0);
  const spans = read.reduce((a, s) => a + s.report.spans, 0);
  const warnings = considered.reduce((a, s) => a + s.report.warnings, 0);
  const gaps = considered.reduce((a, s) => a + (s.report.gaps ?? 0), 0);

  if (!o.dryRun && !o.quiet) {
    for (const { report, delivery } of read) {
      const state = delivery.failed > 0 ? `NOT DELIVERED ${delivery.failed}/${report.spans}` : `${report.spans} spans`;
      o.stdout.write(`${report.traceId}  ${state}  ${report.path}${ui ? `  ${ui}/trace/${report.traceId}` : ''}\n`);
    }
  }
  const err = (line: string) => o.stderr.write(`${line}\n`);
  for (const { report } of unreadable) err(`rollout-otel: ${report.path}: ${report.error}`);
  for (const { report } of considered) {
    for (const w of report.samples) err(`rollout-otel: ${report.path}${w.line ? `:${w.line}` : ''}: ${w.type}: ${w.message}`);
    const more = report.warnings + report.badLines + (report.gaps ?? 0) - report.samples.length;
    if (more > 0) err(`rollout-otel: ${report.path}: … and ${n(more)} more such lines`);
  }

  err(`rollout-otel: ${n(read.length)} session${read.length === 1 ? '' : 's'} read, ${n(spans)} spans built` +
    (unreadable.length ? `, ${n(unreadable.length)} input${unreadable.length === 1 ? '' : 's'} not read` : '') +
    (skipped.length ? `, ${n(skipped.length)} other .jsonl file${skipped.length === 1 ? '' : 's'} skipped (not a rollout)` : '') +
    (warnings ? `, ${n(warnings)} unknown line${warnings === 1 ? '' : 's'} skipped (warnings above)` : '') +
    (gaps ? `, ${n(gaps)} incomplete record${gaps === 1 ? '' : 's'} (missing or refused payloads, unmatched events; warnings above)` : '') +
    (withBadLines.length ? `, ${n(withBadLines.reduce((a, s) => a + s.report.badLines, 0))} line(s) not valid JSON` : ''));
  const redacted = redactionLine(considered);
  if (redacted) err(redacted);
  let code: number = EXIT.ok;
  if (o.sink) {
    const s = o.sink.stats;
    err(`rollout-otel: delivered ${n(s.delivered)} spans to ${o.sink.target} in ${n(s.requests - s.failedRequests)} request${s.requests - s.failedRequests === 1 ? '' : 's'}` +
      (o.threads && o.threads > 1 ? ` from ${o.threads} threads` : '') +
      (s.failed ? `; NOT delivered: ${n(s.failed)} spans (${s.lastError})` : ''));
    if (s.failed > 0) {
      const sessions = read.filter((x) => x.delivery.failed > 0).length;
      err(`rollout-otel: ${n(sessions)} session${sessions === 1 ? ' was' : 's were'} not fully delivered; the rollout files are unchanged, run the same export again to retry (ids are deterministic)`);
      code = EXIT.notDelivered;
    }
    if (ui && read.length && !o.quiet) err(`rollout-otel: open a trace in Jaeger with the link printed beside it (Jaeger's search only looks back 2 days by default)`);
  } else if (o.dryRun) {
    err('rollout-otel: dry run, nothing sent');
  }
  if (code === EXIT.ok && (unreadable.length > 0 || withBadLines.length > 0)) code = EXIT.badInput;
  if (code === EXIT.ok && warnings > 0) code = EXIT.warnings;
  return code;
}

/** How many values were redacted, by rule, most first; the values themselves are never printed. */
export function redactionLine(outcomes: SessionOutcome[]): string | undefined {
  const by: Record<string, number> = {};
  for (const { report } of outcomes) for (const [rule, count] of Object.entries(report.redactions ?? {})) by[rule] = (by[rule] ?? 0) + count;
  const rules = Object.entries(by).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = rules.reduce((a, [, c]) => a + c, 0);
  if (total === 0) return undefined;
  return `rollout-otel: redacted ${n(total)} value${total === 1 ? '' : 's'} (by rule: ${rules.map(([r, c]) => `${r} ${n(c)}`).join(', ')})`;
}

/** When spans go to a Jaeger on this machine, its UI is on port 16686 of the same host. */
function jaegerUi(target: string): string | undefined {
  try {
    const u = new URL(target);
    if (!['localhost', '127.0.0.1', '[::1]'].includes(u.hostname) || u.port !== '4318') return undefined;
    return `http://${u.hostname}:16686`;
  } catch {
    return undefined;
  }
}
