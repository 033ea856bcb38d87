import type { ToolResultInfo } from './events.js';
import type { Note, TurnStatus } from './types.js';

// How every assembler decides what went wrong. Only failures fail: work that was stopped
// (interrupted, cancelled, declined, terminated) says so and is not an error.

/** The error type of a failure whose input names none. */
export const OTHER = '_OTHER';

export interface Failure {
  type: string;
  /** what the input recorded about it: free text */
  message?: string;
  /** what it was, in our own words (no recorded text): safe to show whatever the content setting */
  words?: string;
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

/**
 * Why a tool call failed, one of a small set: a UI finds every failure of a kind by one value.
 * The exit code itself goes beside it, never in it.
 */
export const TOOL_ERRORS = {
  exit_code: 'the command exited with a non-zero code',
  patch_failed: 'apply_patch could not apply the patch',
  script_failed: 'a code-mode script threw or failed',
  mcp_error: 'the MCP call itself failed (server unreachable, protocol error)',
  tool_error: 'the tool reported an error in its result',
  timeout: 'the command ran past its time limit',
  sandbox_denied: 'the sandbox refused the command',
  declined: 'the user declined the call',
  cancelled: 'the call was interrupted or aborted before it finished',
  [OTHER]: 'a failure of no known kind',
} as const;

export type ToolErrorType = keyof typeof TOOL_ERRORS;

/** Raw kinds the inputs record, in the set above. */
const TOOL_ERROR_ALIASES: Record<string, ToolErrorType> = {
  aborted: 'cancelled',
  interrupted: 'cancelled',
  agent_errored: 'tool_error',
  failed: OTHER,
};

const WORDS: Record<ToolErrorType, string> = {
  exit_code: 'exit code',
  patch_failed: 'patch failed',
  script_failed: 'script failed',
  mcp_error: 'MCP call failed',
  tool_error: 'tool reported an error',
  timeout: 'timed out',
  sandbox_denied: 'denied by the sandbox',
  declined: 'declined by the user',
  cancelled: 'cancelled',
  [OTHER]: 'failed',
};

/** A tool call failed when its result says so or its process exited non-zero. */
export function toolFailure(r: ToolResultInfo): Failure | undefined {
  const exited = r.exitCode !== undefined && r.exitCode !== 0;
  if (r.success !== false && !exited) return undefined;
  const raw = r.errorType;
  let type: ToolErrorType =
    raw === undefined ? (exited ? 'exit_code' : OTHER)
    : raw in TOOL_ERRORS ? (raw as ToolErrorType)
    : /^-?\d+$/.test(raw) ? 'exit_code'
    : (TOOL_ERROR_ALIASES[raw] ?? OTHER);
  if (type === OTHER && exited) type = 'exit_code';
  let words: string = WORDS[type];
  if (exited && (type === 'exit_code' || type === 'timeout')) words = type === 'exit_code' ? `exit code ${r.exitCode}` : `timed out (exit code ${r.exitCode})`;
  // a kind of its own the input recorded is kept, as a word
  const own = type === OTHER && raw !== undefined && raw !== 'failed' ? raw : undefined;
  if (own !== undefined) words = /^[A-Za-z_][\w.-]{0,63}$/.test(own) ? own : 'failed';
  return { type, message: r.errorMessage, words };
}

/** A turn's status in words, for every outcome but a plain completion. */
export function turnStatusMessage(turn: { status: TurnStatus; abortReason?: string; errorMessage?: string; errorType?: string }): string | undefined {
  switch (turn.status) {
    case 'failed':
      return turn.errorMessage || turn.errorType || 'failed';
    case 'aborted':
      return turn.abortReason ? `aborted: ${turn.abortReason}` : 'aborted';
    case 'incomplete':
      return 'no end recorded: closed at the last recorded time';
    default:
      return undefined;
  }
}

/**
 * Work still running when its turn ended was cut off: it failed only if the turn failed; otherwise
 * it was cancelled (the turn completed without it) or shares the turn's stop (aborted).
 */
export function cutOffStatus(turnEnd: 'completed' | 'failed' | 'cancelled' | 'aborted'): 'failed' | 'cancelled' | 'aborted' {
  return turnEnd === 'completed' ? 'cancelled' : turnEnd;
}
