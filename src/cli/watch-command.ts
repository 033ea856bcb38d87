import { readdirSync, statSync } from 'node:fs';
import { resolveOtlpConfig } from '../export/config.js';
import { DeliveryLedger } from '../export/ledger.js';
import { OtlpSink } from '../export/otlp-sink.js';
import { AgentTree } from '../pipeline/agent-tree.js';
import { defaultStateDir } from '../pipeline/state-dir.js';
import { Watcher } from '../pipeline/live.js';
import { logOf } from '../pipeline/export-input.js';
import { defaultWatchHome, dialectNamed, lineDialect } from '../formats/registry.js';
import type { DiscoveredInput } from '../sources/discover.js';
import { contentPolicy, type ExportFlags, type Io } from './export-command.js';
import { isSelective, selectionOf, selects, type Selection } from './selection.js';
import { collectorHint, EXIT, UsageError } from './summary.js';

export interface WatchFlags extends Omit<ExportFlags, 'dryRun' | 'out' | 'progress' | 'json'> {
  /** how long a session may be silent before it is closed, e.g. 10m */
  idleTimeout: string;
  state?: string;
  poll?: string;
  /** false (--no-notify): list the tree instead of change notification */
  notify?: boolean;
}

/** Runs until SIGINT/SIGTERM (or `signal`), then delivers what is closed and saves its checkpoint. */
export async function runWatch(dir: string | undefined, flags: WatchFlags, io: Io, signal?: AbortSignal): Promise<number> {
  // bundles are followed wherever their layout is found; there is no "every file is a bundle" here
  if (flags.format !== undefined && dialectNamed(flags.format)?.shape === 'bundle') {
    throw new UsageError(`watch finds bundles by their layout: --format ${flags.format} is for export; name a dialect read line by line, or leave it out`);
  }
  const watched = dir ?? defaultWatchHome(io.env);
  // A directory named that cannot be watched is an error; the default one may not exist yet (no session run yet): waited for.
  const unusable = dirProblem(watched);
  if (unusable && dir !== undefined) {
    io.stderr.write(`rollout-otel: ${watched}: ${unusable}: nothing to watch (check the path)\n`);
    return EXIT.badInput;
  }
  const idleTimeoutMs = parseDuration(flags.idleTimeout, '--idle-timeout');
  const pollMs = flags.poll !== undefined ? parseDuration(flags.poll, '--poll') : 250;
  const stateDir = flags.state ?? defaultStateDir(io.env);
  const selection = selectionOf(flags);
  const config = resolveOtlpConfig(flags, io.env);
  const sink = new OtlpSink(config, undefined, false);
  const ledger = await new DeliveryLedger(stateDir, config.url).load();
  const log = (message: string, problem = false) => {
    if (!flags.quiet || problem) io.stderr.write(`${new Date().toISOString()} rollout-otel: ${message}\n`);
  };

  const stop = new AbortController();
  const onSignal = (name: string) => () => {
    log(`${name}: stopping after delivering what is closed`);
    stop.abort();
  };
  const handlers: [NodeJS.Signals, () => void][] = [['SIGINT', onSignal('SIGINT')], ['SIGTERM', onSignal('SIGTERM')]];
  for (const [sig, h] of handlers) process.once(sig, h);
  signal?.addEventListener('abort', () => stop.abort(), { once: true });

  log(`watching ${watched} (idle timeout ${flags.idleTimeout}, delivery ledger ${ledger.file}) → ${config.url}`);
  if (flags.notify === false) log('change notification off (--no-notify): listing the tree and looking at every file every 2s');
  const watcher = new Watcher({
    dir: watched,
    idleTimeoutMs,
    pollMs,
    notify: flags.notify,
    ledger,
    sink,
    tree: new AgentTree([], [watched, ...(flags.sessionsDir ?? [])], io.env),
    session: { serviceName: flags.serviceName ?? io.env.OTEL_SERVICE_NAME, content: contentPolicy(flags, io.env), dialect: lineDialect(flags.format) },
    log,
    accept: isSelective(selection) ? acceptor(selection) : undefined,
  });
  try {
    await watcher.run(stop.signal);
  } finally {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
    await sink.close();
  }
  const s = sink.stats;
  const skips = watcher.skips ? `; ${watcher.skips} entr${watcher.skips === 1 ? 'y' : 'ies'} skipped (named above)` : '';
  log(`stopped: ${s.delivered} spans delivered in this run${skips}${watcher.outage ? '; the collector is still down: what it did not take will be sent from the files on the next run' : ''}`);
  if (watcher.outage && /connection refused/.test(s.lastError ?? '')) log(collectorHint(config.url).replace(/^rollout-otel: /, ''), true);
  return watcher.outage ? EXIT.notDelivered : watcher.skips ? EXIT.badInput : EXIT.ok;
}

/**
 * Whether the watcher follows a file, asked again only once the file changed: a session that had
 * not started, or a finished one resumed since, is looked at anew.
 */
function acceptor(selection: Selection): (input: DiscoveredInput) => Promise<boolean> {
  const decided = new Map<string, { mtimeMs: number; ok: boolean }>();
  return async (input) => {
    const { readEntry, isEntry } = await import('../pipeline/catalog.js');
    const mtimeMs = statSync(logOf(input), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    const known = decided.get(input.path);
    // once followed, always followed: a selection never drops a session midway
    if (known && (known.ok || known.mtimeMs === mtimeMs)) return known.ok;
    const entry = await readEntry(input, 'head');
    const ok = isEntry(entry) && selects(entry, selection);
    decided.set(input.path, { mtimeMs, ok });
    return ok;
  };
}

function dirProblem(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return 'not a directory';
    readdirSync(dir);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
  }
}

/** `500ms`, `2s`, `90s`, `10m`, `1h`; a bare number is seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new UsageError(`${flag} must be a duration such as 2s, 90s or 10m, got "${text}"`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = n * unit;
  if (ms <= 0) throw new UsageError(`${flag} must be longer than zero`);
  return ms;
}
