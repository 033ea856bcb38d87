import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { DecodeWarning } from '../../model/events.js';
import type { LineSource } from '../dialect.js';
import { Envelope, Manifest, type PayloadRef } from './schemas.js';

export interface BundleFiles {
  dir: string;
  trace: string;
  manifest: string;
}

export async function readManifest(files: BundleFiles): Promise<{ manifest?: Manifest; problem?: string }> {
  let text: string;
  try {
    text = await readFile(files.manifest, 'utf8');
  } catch (err) {
    return { problem: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no manifest.json' : (err as Error).message };
  }
  try {
    const parsed = Manifest.safeParse(JSON.parse(text));
    return parsed.success ? { manifest: parsed.data } : { problem: `manifest.json: ${parsed.error.issues[0]?.message}` };
  } catch {
    return { problem: 'manifest.json is not valid JSON' };
  }
}

export interface LoggedEvent {
  line: number;
  envelope: Envelope;
}

export interface TraceLog {
  lines: number;
  /** in `seq` order (file order where seq repeats) */
  events: LoggedEvent[];
  /** lines that are not JSON */
  bad: DecodeWarning[];
  /** JSON lines without a usable envelope */
  invalid: DecodeWarning[];
}

/** Reads the whole event log: it holds no payloads, so it is small next to the payload files. */
export async function readTraceLog(path: string, io: LineSource): Promise<TraceLog> {
  const log: TraceLog = { lines: 0, events: [], bad: [], invalid: [] };
  for await (const l of io.lines(path)) {
    log.lines = l.line;
    if (l.text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(l.text);
    } catch {
      log.bad.push({ line: l.line, type: 'invalid-json', message: l.complete ? 'line is not valid JSON' : 'truncated last line (no newline, not valid JSON)' });
      continue;
    }
    const env = Envelope.safeParse(value);
    if (!env.success) {
      const type = (value as { payload?: { type?: unknown } } | null)?.payload?.type;
      const issue = env.error.issues[0];
      log.invalid.push({ line: l.line, type: typeof type === 'string' ? type : 'unknown', message: `malformed event: ${issue?.path.join('.')} ${issue?.message}` });
      continue;
    }
    log.events.push({ line: l.line, envelope: env.data });
  }
  // `seq` is the causal order; the writer appends in it, but a copied or merged log may not be.
  log.events.sort((a, b) => a.envelope.seq - b.envelope.seq || a.line - b.line);
  return log;
}

export type PayloadRead = { value: unknown } | { problem: DecodeWarning };

/**
 * Reads payload files on demand, only from inside the bundle: a reference that is absolute,
 * climbs out with `..`, or resolves through a symlink to outside the bundle is refused.
 */
export class PayloadStore {
  private root: Promise<string> | undefined;

  constructor(private readonly dir: string) {}

  async read(ref: PayloadRef, line: number): Promise<PayloadRead> {
    const problem = (type: string, message: string): PayloadRead => ({ problem: { line, type, message: `${ref.path}: ${message}` } });
    if (isAbsolute(ref.path) || !inside(this.dir, resolve(this.dir, ref.path))) return problem('payload-outside-bundle', 'refused: the path leads outside the bundle');
    const target = resolve(this.dir, ref.path);
    let real: string;
    try {
      real = await realpath(target);
      this.root ??= realpath(this.dir);
      if (!inside(await this.root, real)) return problem('payload-outside-bundle', 'refused: a symlink leads outside the bundle');
      const s = await stat(real);
      if (!s.isFile()) return problem('payload-unreadable', 'not a file');
      // a hard link is inside by its path but may be any file of the machine
      if (s.nlink > 1) return problem('payload-outside-bundle', 'refused: the file is a hard link (it has other names, maybe outside the bundle)');
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      return missing ? problem('payload-missing', 'payload file is missing') : problem('payload-unreadable', (err as Error).message);
    }
    try {
      return { value: JSON.parse(await readFile(real, 'utf8')) };
    } catch (err) {
      return err instanceof SyntaxError ? problem('payload-invalid', 'payload file is not valid JSON') : problem('payload-unreadable', (err as Error).message);
    }
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}
