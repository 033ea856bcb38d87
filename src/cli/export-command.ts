import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { resolveOtlpConfig, type OtlpFlags } from '../export/config.js';
import { FileSink } from '../export/file-sink.js';
import { OtlpSink } from '../export/otlp-sink.js';
import type { Delivery, SpanSink } from '../export/sink.js';
import { renderTree } from '../export/tree.js';
import { DEFAULT_CONTENT_LIMIT, type ContentPolicy } from '../otel/content.js';
import { AgentTree } from '../pipeline/agent-tree.js';
import { exportBundle } from '../pipeline/bundle.js';
import { exportSession, type SessionReport } from '../pipeline/session.js';
import type { FormatName } from '../formats/detect.js';
import { discover, InputError, type DiscoveredInput } from '../sources/discover.js';
import { EXIT, printSummary, type SessionOutcome } from './summary.js';

export interface ExportFlags extends OtlpFlags {
  dryRun?: boolean;
  out?: string;
  captureContent?: boolean;
  contentLimit?: string;
  serviceName?: string;
  progress?: boolean;
  quiet?: boolean;
  sessionsDir?: string[];
  format?: Exclude<FormatName, 'codex-trace'> | 'bundle';
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export async function runExport(paths: string[], flags: ExportFlags, io: Io): Promise<number> {
  const content = contentPolicy(flags, io.env);
  const serviceName = flags.serviceName ?? io.env.OTEL_SERVICE_NAME;
  const sink = createSink(flags, io);

  const inputs: DiscoveredInput[] = [];
  const outcomes: SessionOutcome[] = [];
  for (const p of paths) {
    try {
      const found = await discover([p]);
      if (found.length === 0) outcomes.push(missing(p, 'no *.jsonl or *.jsonl.zst files or trace bundles found here'));
      inputs.push(...found);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      outcomes.push(missing(p, err.message.replace(`${p}: `, '')));
    }
  }

  // cli-progress is loaded only for a bar, on a terminal
  const cliProgress = flags.progress !== false && !flags.quiet && io.stderr.isTTY && inputs.length > 1 ? (await import('cli-progress')).default : undefined;
  const bar = cliProgress
    ? new cliProgress.SingleBar({ format: 'exporting [{bar}] {value}/{total} files | {spans} spans', stream: io.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(inputs.length, 0, { spans: 0 });
  let spanCount = 0;
  const tree = new AgentTree(inputs.filter((i) => i.kind === 'rollout').map((i) => i.path), flags.sessionsDir ?? [], io.env);

  for (const input of inputs) {
    const delivery: Delivery = { delivered: 0, failed: 0 };
    const collected: ReadableSpan[] | undefined = flags.dryRun ? [] : undefined;
    const emit = async (spans: ReadableSpan[]) => {
      spanCount += spans.length;
      if (collected) collected.push(...spans);
      else await sink?.add(spans, delivery);
    };
    const format = flags.format === 'bundle' ? undefined : flags.format;
    let report: SessionReport = input.kind === 'bundle' || flags.format === 'bundle'
      ? await exportBundle(input.path, { serviceName, content, emit })
      : await exportSession(input.path, { serviceName, format, content, place: (meta) => tree.place(meta), emit });
    // A bundle's event log found on its own (no manifest beside it) is still a bundle.
    if (report.format === 'codex-trace' && input.path !== '-') report = await exportBundle(input.path, { serviceName, content, emit });
    if (collected && collected.length > 0) io.stdout.write(`${report.path}  trace ${report.traceId}\n${renderTree(collected)}\n\n`);
    if (collected) delivery.delivered = collected.length;
    const skipped = !input.explicit && report.spans === 0 && /^(not a rollout|empty file)/.test(report.error ?? '');
    outcomes.push({ report, delivery, skipped });
    bar?.increment(1, { spans: spanCount });
  }
  bar?.stop();
  await sink?.close();
  return printSummary(outcomes, { sink, dryRun: flags.dryRun ?? false, quiet: flags.quiet ?? false, stdout: io.stdout, stderr: io.stderr });
}

function createSink(flags: ExportFlags, io: Io): SpanSink | undefined {
  if (flags.dryRun) return undefined;
  if (flags.out) return new FileSink(flags.out);
  const sink = new OtlpSink(resolveOtlpConfig(flags, io.env));
  sink.onStatus = (message) => io.stderr.write(`rollout-otel: ${message}\n`);
  return sink;
}

export function contentPolicy(flags: Pick<ExportFlags, 'captureContent' | 'contentLimit'>, env: NodeJS.ProcessEnv): ContentPolicy {
  const fromEnv = /^(true|1|yes|span_only|span_and_event)$/i.test(env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT ?? '');
  const limit = flags.contentLimit !== undefined ? Number(flags.contentLimit) : DEFAULT_CONTENT_LIMIT;
  if (!Number.isInteger(limit) || limit <= 0) throw new UsageError(`--content-limit must be a positive number of characters, got "${flags.contentLimit}"`);
  return { capture: flags.captureContent === true || fromEnv, limit };
}

function missing(path: string, error: string): SessionOutcome {
  return { report: { path, lines: 0, spans: 0, turns: 0, warnings: 0, badLines: 0, samples: [], error }, delivery: { delivered: 0, failed: 0 } };
}

export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}
