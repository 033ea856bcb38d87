import type { SpanSink } from '../export/sink.js';
import type { InputOutcome, UsageTotals } from '../pipeline/report.js';
import { addUnpricedNames } from '../otel/cost.js';

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

interface SummaryOptions {
  sink: Pick<SpanSink, 'target' | 'stats'> | undefined;
  /** threads that exported at once */
  threads?: number;
  dryRun: boolean;
  quiet: boolean;
  /** one JSON object per session, then a summary object, on `stdout` instead of the session lines */
  json?: boolean;
  /** whether this export captures content */
  capture?: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

// counts as en-US writes them (1,234), without the ICU start-up toLocaleString costs
const n = (x: number) => (Number.isSafeInteger(x) && !Object.is(x, -0) ? String(x).replace(/\B(?=(\d{3})+$)/g, ',') : x.toLocaleString('en-US'));

export function printSummary(outcomes: InputOutcome[], o: SummaryOptions): number {
  const ui = o.sink ? jaegerUi(o.sink.target) : undefined;
  const read = outcomes.filter((s) => s.report.traceId && !s.alreadyDelivered);
  const already = outcomes.filter((s) => s.alreadyDelivered === 'delivered');
  const otherContent = outcomes.filter((s) => s.alreadyDelivered === 'content');
  const copies = outcomes.filter((s) => s.alreadyDelivered === 'copy');
  const unreadable = outcomes.filter((s) => s.report.error && !s.skipped);
  const skipped = outcomes.filter((s) => s.skipped);
  // a file skipped as no rollout says nothing about its lines
  const considered = outcomes.filter((s) => !s.skipped);
  const withBadLines = considered.filter((s) => s.report.badLines > 0);
  const spans = read.reduce((a, s) => a + s.report.spans, 0);
  const warnings = considered.reduce((a, s) => a + s.report.warnings, 0);
  const gaps = considered.reduce((a, s) => a + (s.report.gaps ?? 0), 0);

  if (!o.dryRun && !o.quiet && !o.json) {
    for (const { report, delivery } of read) {
      // the same columns either way (trace, count, "spans", path), then what failed or the link
      const count = delivery.failed > 0 ? `${report.spans - delivery.failed}/${report.spans}` : String(report.spans);
      const failed = delivery.failed > 0 ? `  NOT DELIVERED ${delivery.failed}/${report.spans}` : '';
      // a link only to a trace that reached Jaeger
      const link = ui && delivery.failed < report.spans ? `  ${ui}/trace/${report.traceId}` : '';
      o.stdout.write(`${report.traceId}  ${count} spans  ${report.path}${failed}${link}\n`);
    }
  }
  if (o.json) {
    for (const { report, delivery, skipped } of outcomes) {
      if (skipped) continue;
      o.stdout.write(`${JSON.stringify(report.traceId ? sessionObject(report, delivery, o, ui) : { type: 'input', path: report.path, error: report.error })}\n`);
    }
  }
  const err = (line: string) => o.stderr.write(`${line}\n`);
  if (!o.quiet) {
    for (const { report } of read) if (report.usage) err(`rollout-otel: ${report.path}: ${usageLine(report.usage)}`);
    const withUsage = read.filter((s) => s.report.usage);
    if (withUsage.length > 1) err(`rollout-otel: all ${n(withUsage.length)} sessions: ${usageLine(sumUsage(withUsage.map((s) => s.report.usage as UsageTotals)))}`);
  }
  for (const { report } of unreadable) err(`rollout-otel: ${report.path}: ${report.error}`);
  for (const { report } of considered) {
    for (const w of report.samples) err(`rollout-otel: ${report.path}${w.line ? `:${w.line}` : ''}: ${w.type}: ${w.message}`);
    const more = report.warnings + report.badLines + (report.gaps ?? 0) - report.samples.length;
    if (more > 0) err(`rollout-otel: ${report.path}: … and ${n(more)} more such lines`);
  }

  err(`rollout-otel: ${n(read.length)} session${read.length === 1 ? '' : 's'} read, ${n(spans)} spans built` +
    (unreadable.length ? `, ${n(unreadable.length)} input${unreadable.length === 1 ? '' : 's'} not read` : '') +
    (already.length ? `, ${n(already.length)} already delivered (not sent again; --force sends them)` : '') +
    (copies.length ? `, ${n(copies.length)} other cop${copies.length === 1 ? 'y' : 'ies'} of a session skipped (the larger is sent)` : '') +
    (skipped.length ? `, ${n(skipped.length)} other .jsonl file${skipped.length === 1 ? '' : 's'} skipped (not a rollout)` : '') +
    (warnings ? `, ${n(warnings)} unknown line${warnings === 1 ? '' : 's'} skipped (warnings above)` : '') +
    (gaps ? `, ${n(gaps)} incomplete record${gaps === 1 ? '' : 's'} (missing or refused payloads, unmatched events; warnings above)` : '') +
    (withBadLines.length ? `, ${n(withBadLines.reduce((a, s) => a + s.report.badLines, 0))} line(s) skipped (not valid JSON, or over a limit)` : ''));
  if (otherContent.length && o.sink) {
    const had = o.capture ? 'without' : 'with';
    err(`rollout-otel: ${n(otherContent.length)} session${otherContent.length === 1 ? ' was' : 's were'} delivered to ${o.sink.target} before ${had} captured content; not sent again, as the backend would then hold each of their spans twice: it keeps showing them ${had} content. To replace them, delete them there (or use a fresh backend) and export again with --force`);
  }
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
      if (/connection refused/.test(s.lastError ?? '')) err(collectorHint(o.sink.target));
      code = EXIT.notDelivered;
    }
    if (ui && s.delivered > 0 && !o.quiet && !o.json) err(`rollout-otel: open a trace in Jaeger with the link printed beside it (Jaeger's search only looks back 2 days by default)`);
  } else if (o.dryRun) {
    err('rollout-otel: dry run, nothing sent');
  }
  if (code === EXIT.ok && (unreadable.length > 0 || withBadLines.length > 0)) code = EXIT.badInput;
  if (code === EXIT.ok && (warnings > 0 || gaps > 0)) code = EXIT.warnings;
  if (o.json) {
    const stats = o.sink?.stats;
    o.stdout.write(`${JSON.stringify({
      type: 'summary', sessions: read.length, spans, delivered: stats?.delivered ?? 0, notDelivered: stats?.failed ?? 0,
      target: o.sink?.target ?? null, dryRun: o.dryRun, inputsNotRead: unreadable.length, skipped: skipped.length,
      unknownLines: warnings, badLines: withBadLines.reduce((a, x) => a + x.report.badLines, 0), exitCode: code,
    })}\n`);
  }
  return code;
}

function sessionObject(report: InputOutcome['report'], delivery: InputOutcome['delivery'], o: SummaryOptions, ui: string | undefined): Record<string, unknown> {
  const delivered = o.sink ? report.spans - delivery.failed : 0;
  return {
    type: 'session', path: report.path, sessionId: report.threadId ?? null, traceId: report.traceId, format: report.format ?? null,
    turns: report.turns, spans: report.spans, delivered, notDelivered: o.sink ? delivery.failed : 0,
    unknownLines: report.warnings, badLines: report.badLines,
    link: ui && delivered > 0 ? `${ui}/trace/${report.traceId}` : null,
  };
}

/** What to do when nothing listens at the endpoint: start a collector, and know that nothing was lost. */
export function collectorHint(target: string): string {
  return `rollout-otel: nothing is listening at ${target}. To start Jaeger: \`docker compose up -d\` in a clone of rollout-otel, ` +
    '`docker run -d -p 16686:16686 -p 4318:4318 jaegertracing/jaeger:2.20.0`, or the `jaeger` binary of a Jaeger v2 release ' +
    '(https://github.com/jaegertracing/jaeger/releases) started without flags; or point -e/--endpoint at your collector. ' +
    'Nothing was lost: the session files are unchanged, and running the same command again sends them.';
}

/** How many values were redacted, by rule, most first; the values themselves are never printed. */
export function redactionLine(outcomes: InputOutcome[]): string | undefined {
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
    if (!['localhost', '127.0.0.1', '[::1]'].includes(u.hostname) || (u.port !== '4318' && u.port !== '4317')) return undefined;
    return `http://${u.hostname}:16686`;
  } catch {
    return undefined;
  }
}

/** Tokens and cost of one session or of all: `tokens in 1,234 (cached 1,000), out 56 (reasoning 12); cost $0.0123 USD`. */
function usageLine(u: UsageTotals): string {
  if (u.pricedCalls + u.unpricedCalls === 0) return 'no token counts recorded';
  const cache = [u.cachedInput ? `cached ${n(u.cachedInput)}` : '', u.cacheWriteInput ? `cache write ${n(u.cacheWriteInput)}` : ''].filter(Boolean).join(', ');
  const tokens = `tokens in ${n(u.input)}${cache ? ` (${cache})` : ''}, out ${n(u.output)}${u.reasoningOutput ? ` (reasoning ${n(u.reasoningOutput)})` : ''}`;
  const calls = u.pricedCalls + u.unpricedCalls;
  const cost = u.pricedCalls === 0 && calls > 0 ? 'cost unknown' : `cost $${u.cost.toFixed(u.cost < 1 ? 4 : 2)} USD`;
  const unpriced = u.unpricedCalls ? ` (${n(u.unpricedCalls)} of ${n(calls)} model calls not priced: ${u.unpricedModels.join(', ')})` : '';
  return `${tokens}; ${cost}${unpriced}`;
}

function sumUsage(all: UsageTotals[]): UsageTotals {
  const t: UsageTotals = { input: 0, cachedInput: 0, cacheWriteInput: 0, output: 0, reasoningOutput: 0, cost: 0, pricedCalls: 0, unpricedCalls: 0, unpricedModels: [] };
  for (const u of all) {
    t.input += u.input;
    t.cachedInput += u.cachedInput;
    t.cacheWriteInput += u.cacheWriteInput;
    t.output += u.output;
    t.reasoningOutput += u.reasoningOutput;
    t.cost += u.cost;
    t.pricedCalls += u.pricedCalls;
    t.unpricedCalls += u.unpricedCalls;
    addUnpricedNames(t.unpricedModels, u.unpricedModels);
  }
  return t;
}
