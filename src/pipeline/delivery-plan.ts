import { statSync } from 'node:fs';
import type { DeliveryLedger, LedgerEntry } from '../export/ledger.js';
import type { DiscoveredInput } from '../sources/discover.js';
import { ledgerKey, logOf, planAfter, type InputPlan } from './export-input.js';
import { newReport, type InputOutcome } from './report.js';

/** What an export does with one input, from what the delivery ledger says its backend has. */
export interface Planned {
  key?: string;
  /** a directory input: whole or not at all */
  directory?: boolean;
  /** the size of its log when planned (a bundle's trace.jsonl) */
  size?: number;
  entry?: LedgerEntry;
  plan?: InputPlan;
  skip?: 'delivered' | 'content' | 'copy';
}

/**
 * Splits the inputs into those to send, each with its plan, and those the backend has already (or
 * that are another copy of a session sent here: sessions/ and archived_sessions/, a file and its
 * .zst — the larger copy is sent).
 */
export function planDeliveries(found: DiscoveredInput[], ledger: DeliveryLedger | undefined, capture: boolean, force: boolean): { send: { input: DiscoveredInput; planned: Planned }[]; held: InputOutcome[] } {
  const planned = found.map((input) => (ledger ? planInput(input, ledger, capture, force) : {}));
  const best = new Map<string, number>();
  planned.forEach((p, i) => {
    const b = p.key === undefined ? undefined : best.get(p.key);
    if (p.key !== undefined && (b === undefined || (p.size ?? 0) > (planned[b]!.size ?? 0))) best.set(p.key, i);
  });
  const send: { input: DiscoveredInput; planned: Planned }[] = [];
  const held: InputOutcome[] = [];
  for (const [i, input] of found.entries()) {
    const p = planned[i]!;
    if (p.key !== undefined && best.get(p.key) !== i) p.skip = 'copy';
    if (p.skip) held.push({ report: { ...newReport(input.path), traceId: p.entry?.traceId }, delivery: { delivered: 0, failed: 0 }, alreadyDelivered: p.skip });
    else send.push({ input, planned: p });
  }
  return { send, held };
}

function planInput(input: DiscoveredInput, ledger: DeliveryLedger, capture: boolean, force: boolean): Planned {
  if (input.path === '-') return {};
  const key = ledgerKey(input);
  const directory = input.kind === 'bundle';
  const size = statSync(logOf(input), { throwIfNoEntry: false })?.size;
  const entry = ledger.get(key);
  if (!entry || force) return { key, directory, size };
  if (entry.content !== capture) return { key, directory, size, entry, skip: 'content' };
  if (entry.closed && size === entry.size) return { key, directory, size, entry, skip: 'delivered' };
  // A bundle is only whole as a whole: one that grew is sent again, whole, into a trace of its own.
  if (directory) return { key, directory, size, entry, plan: { skipThrough: 0, segment: entry.segment + 1 } };
  return { key, directory, size, entry, plan: planAfter(entry) };
}

/** Notes in the ledger what an input delivered, once every span it sent was accepted. */
export function recordDelivery(ledger: DeliveryLedger, planned: Planned, r: InputOutcome, capture: boolean): void {
  const { key } = planned;
  if (!key || r.unchanged || r.skipped || r.report.error || !r.report.traceId || r.delivery.failed > 0) return;
  const plain = !planned.directory && r.report.bytes !== undefined && !r.report.path.endsWith('.zst');
  ledger.set(key, {
    traceId: r.report.traceId,
    segment: planned.plan?.segment ?? 0,
    through: r.report.through ?? r.report.lines,
    size: plain ? r.report.bytes! : planned.size ?? 0,
    closed: true,
    content: capture,
  });
}

/**
 * What a live path says when it goes on with a session delivered before with the other content
 * setting: the backend keeps what it has, only what is new goes with the new setting.
 */
export function contentChangeNote(path: string, saved: LedgerEntry | undefined, capture: boolean): string | undefined {
  if (!saved || saved.content === capture) return undefined;
  return `${path}: delivered before ${saved.content ? 'with' : 'without'} captured content; the backend keeps that, and only what is new is sent, ${saved.content ? 'without' : 'with'} it`;
}
