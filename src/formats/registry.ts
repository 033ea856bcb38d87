import { claudeCode } from './claude-code/dialect.js';
import { codexBundle } from './codex-bundle/dialect.js';
import { codex } from './codex/dialect.js';
import type { Dialect, ThreadLogDialect } from './dialect.js';
import { generic } from './generic/dialect.js';
import { isObject } from './json.js';
import { discover, type DiscoveredInput, type SkippedEntry } from '../sources/discover.js';

// The one place dialects are registered. Detection asks them in this order: the first that
// recognises a file's first line reads it.
export const DIALECTS: readonly Dialect[] = [codexBundle, codex, claudeCode, generic];

export function dialectNamed(name: string): Dialect | undefined {
  return DIALECTS.find((d) => d.name === name);
}

/** A dialect read line by line, by name (live paths cannot follow the other kind). */
export function lineDialect(name: string | undefined): ThreadLogDialect | undefined {
  const d = name !== undefined ? dialectNamed(name) : undefined;
  return d?.shape === 'thread-log' ? d : undefined;
}

const LINE_DIALECTS = DIALECTS.filter((d): d is ThreadLogDialect => d.shape === 'thread-log');

/** The thread id a log's file name carries, as the first dialect that knows the name says. */
export function threadIdFromName(path: string): string | undefined {
  for (const d of LINE_DIALECTS) {
    const id = d.threadIdFromName?.(path);
    if (id) return id;
  }
  return undefined;
}

/** A log's name that does not depend on how it was reached, where its dialect gives one. */
export function dialectSourcePath(path: string): string | undefined {
  for (const d of LINE_DIALECTS) {
    const p = d.sourcePathOf?.(path);
    if (p) return p;
  }
  return undefined;
}

/** The log folders a file sits in, as the first dialect that knows its layout says. */
export function logRootsOf(file: string): string[] | undefined {
  for (const d of LINE_DIALECTS) {
    const roots = d.treeRootsOf?.(file);
    if (roots) return roots;
  }
  return undefined;
}

/** Recognises a file's dialect from its first JSON line. */
export function detectDialect(first: unknown): Dialect | undefined {
  if (!isObject(first)) return undefined;
  return DIALECTS.find((d) => d.detect(first));
}

/** How a directory walk knows the inputs that are directories (or files standing for one). */
export const DIRECTORY_INPUTS = {
  directory: (dir: string, files: ReadonlySet<string>, named: boolean) => DIALECTS.find((d) => d.shape === 'bundle' && d.claimsDirectory(dir, files, named))?.name,
  file: (path: string) => DIALECTS.find((d) => d.shape === 'bundle' && d.claimsFile(path))?.name,
};

/** Finds the log files and directory inputs under the paths a user gave. */
export function findInputs(paths: string[], skipped?: SkippedEntry[]): Promise<DiscoveredInput[]> {
  return discover(paths, DIRECTORY_INPUTS, skipped);
}

/** Every log folder the registered agents keep, for `watch` and `export` with no path. */
export function agentHomes(env: NodeJS.ProcessEnv = process.env): string[] {
  return DIALECTS.flatMap((d) => d.homes?.(env) ?? []);
}

/** Where `watch` looks when given no directory: the first home of the first dialect read line by line. */
export function defaultWatchHome(env: NodeJS.ProcessEnv = process.env): string {
  for (const d of DIALECTS) if (d.shape === 'thread-log' && d.homes) return d.homes(env)[0] as string;
  return '.';
}

/** What a file read line by line can be, for messages. */
export const LINE_DIALECT_TITLES = DIALECTS.filter((d) => d.shape === 'thread-log').map((d) => d.title).join(', ');
