import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../export/config.js';
import { reportOtelDiagnostics } from '../export/diag.js';
import { DIALECTS } from '../formats/registry.js';
import { CONTENT_FIELDS, DEFAULT_CONTENT_LIMIT } from '../otel/content.js';
import { VERSION } from '../version.js';
import type { ExportFlags, Io } from './export-command.js';
import type { WatchFlags } from './watch-command.js';
import { EXIT, UsageError } from './summary.js';

// Each command is loaded when it runs: start-up is a noticeable part of a short export.
const DEFAULT_IDLE_TIMEOUT = '10m';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  reportOtelDiagnostics((text) => io.stderr.write(`rollout-otel: otel: ${text}\n`));
  let code: number = EXIT.ok;
  const program = new Command('rollout-otel')
    .description('Turn Codex session rollouts (JSONL) into OpenTelemetry GenAI traces, sent over OTLP/HTTP')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  withDeliveryOptions(program
    .command('export')
    .description('export rollout files, trace bundles, directories of them (searched recursively), or - for stdin')
    .argument('<paths...>', 'rollout files (Codex rollout-*.jsonl[.zst], generic {"type","seq","item"} JSONL) or directories such as ~/.codex/sessions'))
    .option('--dry-run', 'print each session\'s span tree instead of sending')
    .option('-o, --out <file>', 'write OTLP/JSON requests (one per line) to a file instead of sending; - for stdout')
    .option('--no-progress', 'no progress bar')
    .option('-j, --jobs <n>', 'threads exporting files at once when sending over OTLP, at most one per core (default 2 for exports over 32 MB on a machine with 2 or more cores, else 1; each thread adds ~40 MB of memory)')
    .action(async (paths: string[], flags: ExportFlags) => {
      code = await (await import('./export-command.js')).runExport(paths, { ...flags, headers: (flags as { header?: string[] }).header }, io);
    });

  withDeliveryOptions(program
    .command('watch')
    .description('follow every rollout under a directory as it is written and send spans as turns finish (until SIGINT/SIGTERM)')
    .argument('[dir]', 'directory to watch (default $CODEX_HOME/sessions, else ~/.codex/sessions)'))
    .option('--idle-timeout <duration>', 'close a session silent this long (e.g. 2s, 90s, 10m) and send its thread span', DEFAULT_IDLE_TIMEOUT)
    .option('--state <dir>', 'where checkpoints are kept (default $XDG_STATE_HOME/rollout-otel, else the platform\'s state directory, ~/.local/state/rollout-otel on Linux)')
    .addOption(new Option('--poll <duration>', 'how often files are checked for new lines').default('250ms').hideHelp())
    .action(async (dir: string | undefined, flags: WatchFlags) => {
      code = await (await import('./watch-command.js')).runWatch(dir, { ...flags, headers: (flags as { header?: string[] }).header }, io);
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof ConfigError || err instanceof UsageError) {
      io.stderr.write(`rollout-otel: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  return code;
}

/** Options both commands share: where spans go, what they carry, how inputs are read. */
function withDeliveryOptions(cmd: Command): Command {
  return cmd
    .option('-e, --endpoint <url>', 'OTLP/HTTP base URL (traces go to <url>/v1/traces); default from OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, else http://localhost:4318')
    .addOption(new Option('-p, --protocol <protocol>', 'OTLP encoding (default from OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)').choices(['http/protobuf', 'http/json']))
    .option('-H, --header <key=value>', 'extra request header, repeatable (adds to OTEL_EXPORTER_OTLP_HEADERS)', collect)
    .addOption(new Option('--compression <algorithm>', 'request compression (default from OTEL_EXPORTER_OTLP_COMPRESSION)').choices(['gzip', 'none']))
    .option('--timeout <ms>', 'deadline per request including retries (default from OTEL_EXPORTER_OTLP_TIMEOUT, else 10000)')
    .option('--service-name <name>', 'service.name of the spans (default OTEL_SERVICE_NAME, else the agent\'s recorded name, else codex)')
    .option('--capture-content', 'include all free text: prompts, messages, tool arguments and results, error messages (secrets redacted); also OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true')
    .option('--capture <fields>', `include only these kinds of free text (secrets redacted), comma-separated, repeatable: ${CONTENT_FIELDS.join(', ')}`, collect)
    .option('--redact-pattern <regex>', 'also redact what this regular expression matches ((?i) in front: any case; a capture group: only that part), repeatable', collect)
    .option('--redact-file <file>', 'also redact the patterns in this file, one regular expression a line (# comments), repeatable', collect)
    .option('--content-limit <chars>', 'longest captured value before it is cut with a marker', String(DEFAULT_CONTENT_LIMIT))
    .addOption(new Option('--format <format>', 'input format of every file (default: recognised from each file\'s content); bundle: every path is a trace bundle').choices(DIALECTS.map((d) => d.name)))
    .option('--sessions-dir <dir>', 'where to look up the parents of sub-agent rollouts, repeatable (also searched: the sessions tree around each file, $CODEX_HOME/sessions and archived_sessions)', collect)
    .option('-q, --quiet', 'print only problems and the summary');
}
