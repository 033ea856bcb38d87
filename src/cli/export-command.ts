import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { resolveOtlpConfig, type OtlpFlags } from '../export/config.js';
import { FileSink, OutFileError } from '../export/file-sink.js';
import { DeliveryLedger } from '../export/ledger.js';
import { OtlpSink } from '../export/otlp-sink.js';
import type { Delivery, SinkStats, SpanSink } from '../export/sink.js';
import { renderTree } from '../export/tree.js';
import { CONTENT_FIELDS, DEFAULT_CONTENT_LIMIT, type ContentField, type ContentPolicy } from '../otel/content.js';
import { compilePattern, PatternError } from '../otel/redact.js';
import { AgentTree } from '../pipeline/agent-tree.js';
import { defaultStateDir } from '../pipeline/state-dir.js';
import { planDeliveries, recordDelivery } from '../pipeline/delivery-plan.js';
import { exportInput } from '../pipeline/export-input.js';
import { exportInParallel } from '../pipeline/parallel.js';
import { newReport, type InputOutcome } from '../pipeline/report.js';
import type { DiscoveredInput } from '../sources/discover.js';
import { isSelective, pathsAndIds, select, selectionOf, type SelectionFlags } from './selection.js';
import { EXIT, printSummary, UsageError } from './summary.js';

export interface ExportFlags extends OtlpFlags, SelectionFlags {
  dryRun?: boolean;
  out?: string;
  captureContent?: boolean;
  /** fields of free text to capture, comma-separated, repeatable */
  capture?: string[];
  contentLimit?: string;
  redactPattern?: string[];
  redactFile?: string[];
  serviceName?: string;
  progress?: boolean;
  quiet?: boolean;
  sessionsDir?: string[];
  format?: string;
  jobs?: string;
  /** send sessions the delivery ledger says were delivered */
  force?: boolean;
  /** where the delivery ledger is kept */
  state?: string;
  json?: boolean;
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** `args` are paths and session ids; with no path, the default homes (`list`'s) are exported. */
export async function runExport(args: string[], flags: ExportFlags, io: Io): Promise<number> {
  const content = contentPolicy(flags, io.env);
  const jobs = jobsFlag(flags.jobs);
  const serviceName = flags.serviceName ?? io.env.OTEL_SERVICE_NAME;
  const { paths: given, ids } = pathsAndIds(args);
  const selection = selectionOf(flags, ids);
  const { defaultHomes, findInputs, homesLooked } = await import('../pipeline/catalog.js');
  const paths = given.length ? given : defaultHomes(io.env);
  if (paths.length === 0) throw new UsageError(`no paths given, and no sessions home found (looked for ${homesLooked(io.env)})`);
  // with --out -, stdout carries the OTLP/JSON lines and nothing else
  const stdout = flags.out === '-' ? io.stderr : io.stdout;
  let sink: SpanSink | undefined;
  try {
    sink = createSink(flags, io);
  } catch (err) {
    if (!(err instanceof OutFileError)) throw err;
    io.stderr.write(`rollout-otel: ${err.message}\n`);
    return EXIT.notDelivered;
  }

  const searched = await findInputs(paths);
  const outcomes: InputOutcome[] = searched.missing.map((m) => missing(m.path, m.error));
  let found: DiscoveredInput[] = searched.inputs;
  if (isSelective(selection)) {
    const picked = await select(found, selection, { depth: 'head', env: io.env });
    found = picked.inputs;
    for (const id of picked.unmatched) outcomes.push(missing(id, `no such file or directory, and no session id starts with this under ${paths.join(', ')}`));
    if (!flags.quiet) io.stderr.write(`rollout-otel: ${picked.entries.length} session${picked.entries.length === 1 ? '' : 's'} selected of ${searched.inputs.length} input${searched.inputs.length === 1 ? '' : 's'}\n`);
  }

  // What reached this backend before is not sent again: only sessions that are new or have grown.
  const ledger = sink instanceof OtlpSink ? await new DeliveryLedger(flags.state ?? defaultStateDir(io.env), sink.target).load() : undefined;
  const { send, held } = planDeliveries(found, ledger, content.capture, flags.force ?? false);
  outcomes.push(...held);
  const inputs = send.map((s) => s.input);
  const plans = send.map((s) => s.planned);

  // cli-progress is loaded only for a bar, on a terminal
  const cliProgress = flags.progress !== false && !flags.quiet && io.stderr.isTTY && inputs.length > 1 ? (await import('cli-progress')).default : undefined;
  const bar = cliProgress
    ? new cliProgress.SingleBar({ format: 'exporting [{bar}] {value}/{total} files | {spans} spans', stream: io.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(inputs.length, 0, { spans: 0 });
  let spanCount = 0;
  // parents of sub-agents are looked up among every file given, sent this time or not
  const knownFiles = found.filter((i) => i.kind === 'rollout').map((i) => i.path);
  const tree = new AgentTree(knownFiles, flags.sessionsDir ?? [], io.env);
  const here = async (input: DiscoveredInput, i: number): Promise<InputOutcome> => {
    const delivery: Delivery = { delivered: 0, failed: 0 };
    const collected: ReadableSpan[] | undefined = flags.dryRun ? [] : undefined;
    const result = await exportInput(input, {
      serviceName, format: flags.format, content, tree, plan: plans[i]!.plan, delivery,
      emit: async (batch) => {
        if (collected) collected.push(...batch);
        else await sink?.add(batch, delivery);
      },
    });
    if (collected && collected.length > 0 && !flags.json) stdout.write(`${result.report.path}  trace ${result.report.traceId}\n${renderTree(collected)}\n\n`);
    if (collected) delivery.delivered = collected.length;
    return result;
  };
  const results: InputOutcome[] = [];
  // an input a failed worker had is done again: counted once
  const done = (i: number, r: InputOutcome) => {
    const before = results[i];
    results[i] = r;
    spanCount += r.report.spans - (before?.report.spans ?? 0);
    if (before) bar?.update({ spans: spanCount });
    else bar?.increment(1, { spans: spanCount });
  };

  const workers = sink instanceof OtlpSink ? workerCount(jobs, inputs) : 0;
  const stats: SinkStats[] = sink ? [sink.stats] : [];
  let threads = 1;
  try {
    if (workers > 0 && sink instanceof OtlpSink) {
      // the main thread's sink and the workers' may say the same thing (a collector that is down): once
      const said = new Set<string>();
      const status = (message: string) => {
        if (!said.has(message)) io.stderr.write(`rollout-otel: ${message}\n`);
        said.add(message);
      };
      sink.onStatus = status;
      const setup = { config: sink.config, serviceName, format: flags.format, content, knownFiles, sessionsDirs: flags.sessionsDir ?? [], plans: plans.map((p) => p.plan) };
      const parallel = await exportInParallel(inputs, workers, setup, { env: io.env, here, done, status });
      stats.push(...parallel.stats);
      threads = parallel.threads;
    } else {
      for (let i = 0; i < inputs.length; i++) done(i, await here(inputs[i]!, i));
    }
  } finally {
    bar?.stop();
  }
  await sink?.close();
  if (ledger) {
    results.forEach((r, i) => recordDelivery(ledger, plans[i]!, r, content.capture));
    try {
      await ledger.save();
    } catch (err) {
      io.stderr.write(`rollout-otel: cannot save the delivery ledger ${ledger.file} (${(err as Error).message}): the next export will send these sessions again\n`);
    }
  }
  outcomes.push(...results.map((r) => (r.unchanged ? { ...r, alreadyDelivered: 'delivered' as const } : r)));
  const delivered = sink && { target: sink.target, stats: sumStats(stats) };
  return printSummary(outcomes, { sink: delivered, threads, dryRun: flags.dryRun ?? false, quiet: flags.quiet ?? false, capture: content.capture, json: flags.json, stdout, stderr: io.stderr });
}

const DEFAULT_JOBS = 2;

/** Below this much input a worker costs more to start than it saves. */
const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

function jobsFlag(jobs: string | undefined): number | undefined {
  if (jobs === undefined) return undefined;
  if (!/^\d+$/.test(jobs.trim()) || Number(jobs) < 1) throw new UsageError(`--jobs must be a whole number of threads ≥ 1, got "${jobs}"`);
  return Number(jobs);
}

/**
 * Worker threads beside the main thread: `--jobs` minus one (at most one thread per core), or by
 * default one for a large export on a machine with a spare core. Each thread costs ~40 MB, so the
 * default stays under 200 MB.
 */
function workerCount(jobs: number | undefined, inputs: DiscoveredInput[]): number {
  if (inputs.length < 2) return 0;
  if (jobs !== undefined) return Math.min(jobs, availableParallelism(), inputs.length) - 1;
  let bytes = 0;
  for (const i of inputs) bytes += i.path === '-' ? 0 : (statSync(i.path, { throwIfNoEntry: false })?.size ?? 0);
  if (bytes < PARALLEL_MIN_BYTES) return 0;
  return Math.max(0, Math.min(availableParallelism(), DEFAULT_JOBS) - 1);
}

function sumStats(all: SinkStats[]): SinkStats {
  const sum: SinkStats = { delivered: 0, failed: 0, requests: 0, failedRequests: 0, partialRequests: 0 };
  for (const s of all) {
    sum.delivered += s.delivered;
    sum.failed += s.failed;
    sum.requests += s.requests;
    sum.failedRequests += s.failedRequests;
    sum.partialRequests += s.partialRequests;
    sum.lastError ??= s.lastError;
  }
  return sum;
}

function createSink(flags: ExportFlags, io: Io): SpanSink | undefined {
  if (flags.dryRun) return undefined;
  if (flags.out) return new FileSink(flags.out);
  const sink = new OtlpSink(resolveOtlpConfig(flags, io.env));
  sink.onStatus = (message) => io.stderr.write(`rollout-otel: ${message}\n`);
  return sink;
}

export function contentPolicy(flags: Pick<ExportFlags, 'captureContent' | 'capture' | 'contentLimit' | 'redactPattern' | 'redactFile'>, env: NodeJS.ProcessEnv): ContentPolicy {
  const fromEnv = /^(true|1|yes|span_only|span_and_event)$/i.test(env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT ?? '');
  const limit = flags.contentLimit !== undefined ? Number(flags.contentLimit) : DEFAULT_CONTENT_LIMIT;
  if (!Number.isInteger(limit) || limit <= 0) throw new UsageError(`--content-limit must be a positive number of characters, got "${flags.contentLimit}"`);
  const all = flags.captureContent === true || fromEnv;
  const fields = all ? undefined : captureFields(flags.capture ?? []);
  return { capture: all || (fields?.length ?? 0) > 0, limit, fields, patterns: redactPatterns(flags.redactPattern ?? [], flags.redactFile ?? []) };
}

function captureFields(values: string[]): ContentField[] {
  const fields = values.flatMap((v) => v.split(',')).map((f) => f.trim()).filter((f) => f !== '');
  for (const f of fields) {
    if (!(CONTENT_FIELDS as readonly string[]).includes(f)) throw new UsageError(`--capture takes ${CONTENT_FIELDS.join(', ')}; got "${f}"`);
  }
  return [...new Set(fields as ContentField[])];
}

/** Patterns from flags and files (one a line; blank lines and lines starting with # skipped), each checked. */
function redactPatterns(flagged: string[], files: string[]): string[] {
  const patterns: string[] = [];
  const add = (pattern: string, where: string) => {
    try {
      compilePattern(pattern);
    } catch (err) {
      if (err instanceof PatternError) throw new UsageError(`${where}: ${err.message}`);
      throw err;
    }
    patterns.push(pattern);
  };
  for (const p of flagged) add(p, '--redact-pattern');
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`--redact-file ${file}: cannot be read (${code === 'ENOENT' ? 'no such file' : code ?? (err as Error).message}); nothing was exported`);
    }
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() !== '' && !line.trimStart().startsWith('#')) add(line, `--redact-file ${file}:${i + 1}`);
    });
  }
  return patterns;
}

function missing(path: string, error: string): InputOutcome {
  return { report: newReport(path, error), delivery: { delivered: 0, failed: 0 } };
}
