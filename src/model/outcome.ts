import type { ToolResultInfo } from './events.js';
import type { Note, TurnStatus } from './types.js';

// How every assembler decides what went wrong. Only failures fail: work that was stopped
// (interrupted, cancelled, declined, terminated) says so and is not an error.

/** The error type of a failure whose input names none. */
export const OTHER = '_OTHER';

export interface Failure {
  type: string;
  message?: string;
}

/**
 * An error met in a turn or thread becomes one `exception` note per distinct message: the same
 * error is often recorded twice (an `error` event, then the turn's own end).
 */
export function noteError(notes: Note[], time: number, type: string | undefined, message: string): void {
  if (notes.some((n) => n.kind === 'exception' && n.message === message)) return;
  notes.push({ kind: 'exception', time, errorType: type ?? OTHER, message });
}

/**
 * A turn's status from how it ended and whether an error was recorded in it: an error fails a turn
 * that completed or never ended; an aborted turn stays aborted (the abort is why it stopped).
 */
export function turnStatus(ended: TurnStatus, errorRecorded: boolean): TurnStatus {
  if (!errorRecorded) return ended;
  return ended === 'completed' || ended === 'incomplete' ? 'failed' : ended;
}

/** A tool call failed when its result says so or its process exited non-zero. */
export function toolFailure(r: ToolResultInfo): Failure | undefined {
  const failed = r.success === false || (r.exitCode !== undefined && r.exitCode !== 0);
  if (!failed) return undefined;
  return { type: r.errorType ?? (r.exitCode !== undefined ? String(r.exitCode) : OTHER), message: r.errorMessage };
}

/**
 * Work still running when its turn ended was cut off: it failed only if the turn failed; otherwise
 * it was cancelled (the turn completed without it) or shares the turn's stop (aborted).
 */
export function cutOffStatus(turnEnd: 'completed' | 'failed' | 'cancelled' | 'aborted'): 'failed' | 'cancelled' | 'aborted' {
  return turnEnd === 'completed' ? 'cancelled' : turnEnd;
}
