import { truncate } from '../cut.js';
import type { RolloutEvent, ThreadMeta } from './events.js';

/**
 * The longest name, path or id the model keeps (a model, tool or agent name, a cwd, a branch):
 * real ones are far shorter, and a log that records megabytes there must not have every turn and
 * span hold them. Free text (prompts, outputs, arguments) is not a name: the content policy cuts it.
 */
export const MAX_NAME_CHARS = 2048;

export function cutName(text: string): string;
export function cutName(text: string | undefined): string | undefined;
export function cutName(text: string | undefined): string | undefined {
  // cut short enough that the marker too fits: what reads the name later has nothing more to cut
  return text === undefined || text.length <= MAX_NAME_CHARS ? text : truncate(text, MAX_NAME_CHARS - 40);
}

const META_NAMES = ['cwd', 'originator', 'cliVersion', 'source', 'subagentKind', 'provider', 'agentNickname', 'agentRole', 'agentPath', 'historyMode', 'agentName'] as const;

/** The event with its names cut (in place: events are made for the assembler alone). */
export function withShortNames(e: RolloutEvent): RolloutEvent {
  switch (e.kind) {
    case 'thread_start':
      cutMeta(e.meta);
      break;
    case 'turn_context':
      e.model = cutName(e.model);
      e.cwd = cutName(e.cwd);
      break;
    case 'model_output':
      e.model = cutName(e.model);
      break;
    case 'tool_call':
      e.name = cutName(e.name);
      break;
    case 'tool_result':
      e.name = cutName(e.name);
      break;
  }
  return e;
}

function cutMeta(m: ThreadMeta): void {
  for (const k of META_NAMES) if (typeof m[k] === 'string' && m[k].length > MAX_NAME_CHARS) (m as unknown as Record<string, unknown>)[k] = cutName(m[k]);
  const g = m.git;
  if (g) for (const k of ['commit', 'branch', 'repositoryUrl'] as const) if (g[k] !== undefined && g[k].length > MAX_NAME_CHARS) g[k] = cutName(g[k]);
}
