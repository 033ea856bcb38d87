import { readFileSync } from 'node:fs';

// An independent, deliberately plain reading of a Claude Code transcript: what the trace must agree with.

export interface Response {
  model: string;
  /** input + cache read + cache creation */
  input: number;
  cacheRead: number;
  cacheWrite: number;
  /** the largest output count on any of its lines */
  output: number;
  requestId?: string;
}

export interface ClaudeReading {
  sessionId: string;
  version: string;
  responses: Map<string, Response>;
  /** tool_use id → name */
  toolUses: Map<string, string>;
  /** tool_use id → is_error and whether the user declined it */
  toolResults: Map<string, { isError: boolean; declined: boolean }>;
  /** Task/Agent call id → the agent its result names */
  agents: Map<string, string>;
  prompts: number;
  interrupts: number;
  compactions: number;
  microcompactions: number;
  apiErrors: number;
  syntheticErrors: string[];
  lineTypes: Set<string>;
}

export function readClaudeTranscript(path: string): ClaudeReading {
  const r: ClaudeReading = {
    sessionId: '', version: '', responses: new Map(), toolUses: new Map(), toolResults: new Map(), agents: new Map(),
    prompts: 0, interrupts: 0, compactions: 0, microcompactions: 0, apiErrors: 0, syntheticErrors: [], lineTypes: new Set(),
  };
  let lastPromptId: string | undefined;
  for (const text of readFileSync(path, 'utf8').split('\n')) {
    if (!text.trim()) continue;
    const o = JSON.parse(text);
    r.lineTypes.add(o.type);
    if (!r.sessionId && o.sessionId) r.sessionId = o.sessionId;
    if (!r.version && o.version) r.version = o.version;
    if (o.type === 'assistant') {
      const m = o.message;
      if (m.model === '<synthetic>') {
        if (o.isApiErrorMessage) r.syntheticErrors.push(m.content[0].text);
        continue;
      }
      const u = m.usage ?? {};
      const seen = r.responses.get(m.id);
      const output = Math.max(seen?.output ?? 0, u.output_tokens ?? 0);
      r.responses.set(m.id, {
        model: m.model,
        input: (u.input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0),
        cacheRead: u.cache_read_input_tokens ?? 0,
        cacheWrite: u.cache_creation_input_tokens ?? 0,
        output,
        requestId: o.requestId,
      });
      for (const b of m.content) if (b.type === 'tool_use') r.toolUses.set(b.id, b.name);
    } else if (o.type === 'user') {
      const c = o.message.content;
      const blocks: { type: string; text?: string; tool_use_id?: string; is_error?: boolean; content?: unknown }[] = typeof c === 'string' ? [{ type: 'text', text: c }] : c;
      let results = 0;
      for (const b of blocks) {
        if (b.type !== 'tool_result') continue;
        results++;
        const body = typeof b.content === 'string' ? b.content : JSON.stringify(b.content ?? '');
        r.toolResults.set(b.tool_use_id as string, { isError: b.is_error === true, declined: b.is_error === true && body.startsWith("The user doesn't want to proceed") });
        const agentId = o.toolUseResult?.agentId;
        if (typeof agentId === 'string') r.agents.set(b.tool_use_id as string, agentId);
      }
      const textOf = blocks.filter((b) => b.type === 'text').map((b) => b.text).join('\n');
      if (results > 0 || o.isMeta || o.isCompactSummary) continue;
      if (textOf.startsWith('[Request interrupted by user')) {
        r.interrupts++;
        continue;
      }
      if (/^\s*<local-command-(stdout|stderr|caveat)>/.test(textOf)) continue;
      if (o.promptId && o.promptId === lastPromptId) continue;
      lastPromptId = o.promptId;
      r.prompts++;
    } else if (o.type === 'system') {
      if (o.subtype === 'compact_boundary') r.compactions++;
      if (o.subtype === 'microcompact_boundary') r.microcompactions++;
      if (o.subtype === 'api_error') r.apiErrors++;
    }
  }
  return r;
}
