import type { EventEmitter } from 'node:events';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../export/config.js';
import { reportOtelDiagnostics } from '../export/diag.js';
import { DIALECTS } from '../formats/registry.js';
import { CONTENT_FIELDS, DEFAULT_CONTENT_LIMIT } from '../otel/content.js';
import { VERSION } from '../version.js';
import type { ExportFlags, Io } from './export-command.js';
import type { ListFlags } from './list-command.js';
import type { ShowFlags } from './show-command.js';
import type { WatchFlags } from './watch-command.js';
import { EXIT, UsageError } from './summary.js';

// Each command is loaded when it runs: start-up is a noticeable part of a short export.
const DEFAULT_IDLE_TIMEOUT = '10m';

const HELP_FOOTER = `
Examples:
  rollout-otel export ~/.codex/sessions                # OTLP/HTTP to http://localhost:4318
  rollout-otel export -p grpc ~/.codex/sessions        # OTLP/gRPC to http://localhost:4317
  rollout-otel export --dry-run rollout-….jsonl        # print the span tree, send nothing
  rollout-otel export -e http://127.0.0.1:6006 DIR     # Arize Phoenix (OTLP/HTTP protobuf)
  OTEL_RESOURCE_ATTRIBUTES=team=infra rollout-otel export DIR
  rollout-otel watch                                   # follow ~/.codex/sessions live

Exit codes:
  0  every span built was delivered, and every line was understood
  1  some spans were not delivered (the summary says how many)
  2  usage error: bad flag, endpoint, protocol, limit or OTEL_* setting
  3  an input could not be read, or had lines that are not JSON
  4  all delivered, but some lines were of an unknown type or shape
`;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  reportOtelDiagnostics((text) => io.stderr.write(`rollout-otel: otel: ${text}\n`));
  let code: number = EXIT.ok;
  // `list | head`: a reader that went away ends the command quietly, as it does for other tools
  if (io.stdout === process.stdout) {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(code);
    });
  }
  const program = new Command('rollout-otel')
    .description('Turn Codex session rollouts (JSONL) into OpenTelemetry GenAI traces, sent over OTLP (HTTP or gRPC)')
    .version(VERSION, '-v, --version', 'print the version')
    // -V as well: commander's own default, which earlier releases answered to
    .addOption(new Option('-V').hideHelp())
    .on('option:V', () => (program as unknown as EventEmitter).emit('option:version'))
    .addHelpText('after', HELP_FOOTER)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  withSelection(program
    .command('list')
    .description('list the sessions under the sessions homes (or the paths), newest first: start, agent, id, directory, turns, tokens, file, title')
    .argument('[paths...]', 'files or directories to look in (default: $CODEX_HOME/sessions and archived_sessions, else ~/.codex/..., and $CODEX_ROLLOUT_TRACE_ROOT)'))
    .option('--json', 'one JSON object per session, per line')
    .option('--no-progress', 'no progress bar')
    .option('-q, --quiet', 'print only problems')
    .action(async (paths: string[], flags: ListFlags) => {
      code = await (await import('./list-command.js')).runList(paths, flags, io);
    });

  program
    .command('show')
    .description('print one session\'s span tree (the export\'s --dry-run view) with its failures; found by id or its first characters, or a file')
    .argument('<session>', 'a session id, its first characters (e.g. 019e06e6), or a rollout file or trace bundle')
    .argument('[paths...]', 'where to look for the id (default: the sessions homes, as list)')
    .option('--json', 'the spans as JSON, one object per line')
    .option('--capture-content', 'include prompts, messages, tool arguments and results (secrets redacted)')
    .option('--content-limit <chars>', 'longest captured value before it is cut with a marker', String(DEFAULT_CONTENT_LIMIT))
    .addOption(new Option('--format <format>', 'input format (default: recognised from the content)').choices(['codex', 'generic', 'bundle']))
    .option('--sessions-dir <dir>', 'where else to look up the parents of sub-agent rollouts, repeatable', collect)
    .action(async (session: string, paths: string[], flags: ShowFlags) => {
      code = await (await import('./show-command.js')).runShow(session, paths, flags, io);
    });

  withDeliveryOptions(program
    .command('export')
    .description('export sessions: rollout files, Claude Code transcripts, trace bundles, directories of them (searched recursively), - for stdin, or session ids; default: every agent home')
    .argument('[paths...]', 'rollout files (Codex rollout-*.jsonl[.zst], Claude Code transcripts, generic {"type","seq","item"} JSONL), directories such as ~/.codex/sessions or ~/.claude/projects, or session ids (or their first characters); none: every agent home ($CODEX_HOME/sessions and archived_sessions, $CLAUDE_CONFIG_DIR/projects; defaults ~/.codex, ~/.claude)'))
    .option('--dry-run', 'print each session\'s span tree instead of sending')
    .option('--json', 'one JSON object per session (trace id, spans built and delivered, link) and a summary object, instead of the session lines')
    .option('-o, --out <file>', 'write OTLP/JSON requests (one per line) to a file instead of sending; - for stdout')
    .option('--force', 'send sessions again that the delivery ledger says this endpoint already has')
    .option('--state <dir>', 'where the delivery ledger is kept, shared with watch (default $XDG_STATE_HOME/rollout-otel, else the platform\'s state directory, ~/.local/state/rollout-otel on Linux)')
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
    .option('--state <dir>', 'where the delivery ledger is kept, shared with export (default $XDG_STATE_HOME/rollout-otel, else the platform\'s state directory, ~/.local/state/rollout-otel on Linux)')
    .option('--no-notify', 'no change notification (inotify): list the tree and look at every file every 2s instead; for network file systems (NFS, SMB), where writes from other machines raise no event')
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

/** The flags that pick sessions: list, export and watch. */
function withSelection(cmd: Command): Command {
  return cmd
    .option('--since <when>', 'sessions active since: a duration before now (2d, 12h, 1w), today, yesterday, a date (2026-05-08) or ISO date and time')
    .option('--until <when>', 'sessions started before: as --since; a bare date means the end of that day')
    .option('--agent <name>', 'sessions of this agent (codex, or the name a generic log gives), repeatable', collect)
    .option('--cwd <dir>', 'sessions that ran in this directory or below it')
    .option('--session <id>', 'the session with this id, or whose id starts with this, repeatable', collect);
}

/** Options both commands share: where spans go, what they carry, how inputs are read. */
function withDeliveryOptions(cmd: Command): Command {
  return withSelection(cmd)
    .option('-e, --endpoint <url>', 'collector: for HTTP a base URL (traces go to <url>/v1/traces), for gRPC [http[s]://]host:port; default from OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, else http://localhost:4318 (gRPC: http://localhost:4317)')
    .addOption(new Option('-p, --protocol <protocol>', 'OTLP transport and encoding (default from OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL, else http/protobuf)').choices(['http/protobuf', 'http/json', 'grpc']))
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
