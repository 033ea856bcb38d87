import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { ThreadLogDialect } from '../dialect.js';
import { ClaudeDecoder } from './decoder.js';

/** Where Claude Code keeps its state: `$CLAUDE_CONFIG_DIR`, else `~/.claude`. */
export function claudeHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLAUDE_CONFIG_DIR || join(homedir(), '.claude');
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const SESSION_FILE = new RegExp(`^(${UUID})\\.jsonl(\\.zst)?$`);
const AGENT_FILE = /^agent-([A-Za-z0-9_-]+)\.jsonl(\.zst)?$/;
/** the first lines of a transcript that carry no session id */
const OPENING_TYPES = new Set(['summary', 'file-history-snapshot', 'file-history-delta']);

/**
 * Claude Code transcripts: `~/.claude/projects/<slug>/<sessionId>.jsonl`, sub-agents in
 * `agent-<agentId>.jsonl` beside it (2.0) or in `<sessionId>/subagents/` (2.1, workflow agents
 * further below).
 */
export const claudeCode: ThreadLogDialect = {
  name: 'claude-code',
  title: 'Claude Code transcript',
  agent: 'claude-code',
  shape: 'thread-log',
  detect(v) {
    if (typeof v.type !== 'string' || 'payload' in v || 'seq' in v || 'item' in v) return false;
    if (typeof v.sessionId === 'string') return true;
    if (v.type === 'summary') return typeof v.leafUuid === 'string';
    return OPENING_TYPES.has(v.type) && (typeof v.messageId === 'string' || 'snapshot' in v);
  },
  homes: (env) => [join(claudeHome(env), 'projects')],
  listMarkers: () => [
    // responses (a sub-agent's too, carried inside progress lines) and prompts; tool results are most of a transcript and start nothing
    { text: '"type":"assistant"' },
    { text: '"type":"user"', unless: '"tool_use_id"', prompt: true },
  ],
  decoder(ctx) {
    const dir = dirname(ctx.path);
    return new ClaudeDecoder({
      fallbackThreadId: claudeCode.threadIdFromName?.(ctx.path),
      hasTranscript: ctx.path === '-'
        ? undefined
        : (sessionId, agentId) => existsSync(join(dir, sessionId, 'subagents', `agent-${agentId}.jsonl`)) || existsSync(join(dir, `agent-${agentId}.jsonl`)),
    });
  },
  threadIdFromName(path) {
    const name = basename(path);
    return SESSION_FILE.exec(name)?.[1] ?? AGENT_FILE.exec(name)?.[1];
  },
  /** A sub-agent's parent lives in the project folder: the one above `<sessionId>/subagents/…`. */
  treeRootsOf(file) {
    let dir = dirname(file);
    for (let i = 0; i < 5 && dir !== dirname(dir); i++, dir = dirname(dir)) {
      if (basename(dir) === 'subagents') return [dirname(dirname(dir))];
    }
    return AGENT_FILE.test(basename(file)) ? [dirname(file)] : undefined;
  },
};
