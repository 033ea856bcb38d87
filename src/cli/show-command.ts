import { existsSync } from 'node:fs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { renderTree } from '../export/tree.js';
import { AgentTree } from '../pipeline/agent-tree.js';
import { defaultHomes, findInputs, homesLooked, isEntry, readEntry, type SessionEntry } from '../pipeline/catalog.js';
import { exportInput } from '../pipeline/export-input.js';
import type { DiscoveredInput } from '../sources/discover.js';
import { contentPolicy, type Io } from './export-command.js';
import { select, selectionOf } from './selection.js';
import { costText } from './list-command.js';
import { EXIT, UsageError } from './summary.js';

export interface ShowFlags {
  json?: boolean;
  captureContent?: boolean;
  contentLimit?: string;
  format?: string;
  sessionsDir?: string[];
}

const SPAN_KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'];
const MAX_CANDIDATES = 10;

/** Prints one session's span tree (or its spans as JSON lines), found by id, id prefix or path. */
export async function runShow(session: string, paths: string[], flags: ShowFlags, io: Io): Promise<number> {
  const content = contentPolicy(flags, io.env);
  const err = (line: string) => io.stderr.write(`rollout-otel: ${line}\n`);
  const input = await resolveSession(session, paths, io.env, err);
  if (!input) return EXIT.badInput;

  const spans: ReadableSpan[] = [];
  const tree = new AgentTree(input.kind === 'rollout' ? [input.path] : [], flags.sessionsDir ?? [], io.env);
  const { report } = await exportInput(input, {
    format: flags.format, content, tree, delivery: { delivered: 0, failed: 0 },
    emit: async (batch) => {
      spans.push(...batch);
    },
  });
  if (report.error && spans.length === 0) {
    err(`${report.path}: ${report.error}`);
    return EXIT.badInput;
  }
  if (flags.json) {
    for (const s of spans) io.stdout.write(`${JSON.stringify(spanJson(s))}\n`);
  } else {
    const entry = await readEntry(input);
    io.stdout.write(`${report.path}  trace ${report.traceId}\n`);
    if (isEntry(entry)) io.stdout.write(`${describe(entry)}\n`);
    io.stdout.write(`\n${renderTree(spans)}\n`);
    const failed = spans.filter((s) => s.status.code === 2);
    if (failed.length) {
      io.stdout.write(`\n${failed.length} failed:\n`);
      for (const s of failed) {
        const line = s.attributes['rollout.source.line'];
        io.stdout.write(`  ${s.name}${line !== undefined ? `  line ${line}` : ''}${s.status.message ? `  ${oneLine(s.status.message)}` : ''}\n`);
      }
    }
  }
  for (const w of report.samples) err(`${report.path}${w.line ? `:${w.line}` : ''}: ${w.type}: ${w.message}`);
  const more = report.warnings + report.badLines + (report.gaps ?? 0) - report.samples.length;
  if (more > 0) err(`${report.path}: … and ${more} more such lines`);
  if (report.badLines > 0) return EXIT.badInput;
  return report.warnings > 0 ? EXIT.warnings : EXIT.ok;
}

/** A path as it is; else the one session whose id starts with `session` under the paths (default: the homes). */
async function resolveSession(session: string, paths: string[], env: NodeJS.ProcessEnv, err: (line: string) => void): Promise<DiscoveredInput | undefined> {
  if (existsSync(session)) {
    const found = await findInputs([session]);
    if (found.inputs.length === 1) return found.inputs[0];
    if (found.inputs.length === 0) {
      err(`${session}: ${found.missing[0]?.error ?? 'no session here'}`);
      return undefined;
    }
    throw new UsageError(`${session} holds ${found.inputs.length} sessions; show takes one: find its id with \`rollout-otel list ${session}\``);
  }
  if (!/^[0-9a-z][0-9a-z._-]*$/i.test(session)) {
    err(`${session}: no such file, and not a session id`);
    return undefined;
  }
  const where = paths.length ? paths : defaultHomes(env);
  if (where.length === 0) {
    err(`no session ${session}: no sessions home found (looked for ${homesLooked(env)}); give the directory to look in`);
    return undefined;
  }
  const found = await findInputs(where);
  const picked = await select(found.inputs, selectionOf({}, [session]), { depth: 'head', env });
  const ids = [...new Set(picked.entries.map((e) => e.id))];
  if (ids.length === 0) {
    err(`no session id starts with ${session} under ${where.join(', ')}`);
    return undefined;
  }
  if (ids.length > 1) {
    const listed = ids.slice(0, MAX_CANDIDATES).join(', ');
    throw new UsageError(`${ids.length} sessions have ids starting with ${session}: ${listed}${ids.length > MAX_CANDIDATES ? ', …' : ''}; give more of the id`);
  }
  // the same session in several files (a live copy and an archive): the one written last
  return picked.entries.sort((a, b) => b.end - a.end)[0]!.input;
}

function describe(e: SessionEntry): string {
  const parts = [`session ${e.id}`, e.agent, `started ${new Date(e.start).toISOString()}`];
  if (e.cwd) parts.push(e.cwd);
  if (e.turns !== undefined) parts.push(`${e.turns} turn${e.turns === 1 ? '' : 's'}`);
  if (e.tokens) parts.push(`${e.tokens.total} tokens`);
  if (e.cost) parts.push(e.cost.amount === undefined ? 'cost unknown' : costText(e.cost));
  if (e.model) parts.push(e.model);
  return parts.join('  ');
}

function spanJson(s: ReadableSpan): Record<string, unknown> {
  const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
  const iso = (t: [number, number]) => new Date(ms(t)).toISOString();
  return {
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? null,
    name: s.name,
    kind: SPAN_KINDS[s.kind] ?? String(s.kind),
    start: iso(s.startTime),
    end: iso(s.endTime),
    durationMs: Math.round((ms(s.endTime) - ms(s.startTime)) * 1000) / 1000,
    status: { code: STATUS[s.status.code] ?? String(s.status.code), ...(s.status.message ? { message: s.status.message } : {}) },
    attributes: s.attributes,
    events: s.events.map((e) => ({ name: e.name, time: iso(e.time), attributes: e.attributes ?? {} })),
    links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId, attributes: l.attributes ?? {} })),
    resource: s.resource.attributes,
  };
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 159)}…` : flat;
}
