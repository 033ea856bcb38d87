import type { ToolResultInfo } from '../../model/events.js';
import { contentText } from '../text.js';
import { jsonText } from '../json.js';

// Codex reports a tool's outcome only inside the text it hands back to the model. The shapes
// changed several times: a JSON string with `metadata` (≤0.5x shell), `Exit code:`/`Wall time:`
// headers, unified-exec `Process exited with code`, and code-mode `Script completed|failed`.

const EXIT_CODE = /(?:^|\n)Exit code: (-?\d+)/;
const PROCESS_EXITED = /Process exited with code (-?\d+)/;
const WALL_TIME = /Wall time:? ([\d.]+) seconds/;
const STILL_RUNNING = /^(?:Chunk ID: \S+\n)?(?:Wall time: [\d.]+ seconds\n)?Process running with session ID|^Script running with cell ID/;

function textOf(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) {
    const first = output[0] as { text?: unknown } | undefined;
    return typeof first?.text === 'string' ? first.text : '';
  }
  return '';
}

export function parseToolOutput(output: unknown): ToolResultInfo {
  const text = textOf(output);
  const head = text.length > 4096 ? text.slice(0, 4096) : text;
  const info: ToolResultInfo = {};
  if (head.startsWith('{"output"') || head.startsWith('{"metadata"')) {
    try {
      const parsed = JSON.parse(text) as { metadata?: { exit_code?: unknown; duration_seconds?: unknown } };
      const meta = parsed.metadata;
      if (typeof meta?.exit_code === 'number') info.exitCode = meta.exit_code;
      if (typeof meta?.duration_seconds === 'number') info.durationMs = meta.duration_seconds * 1000;
      return finish(info);
    } catch {
      // a plain string that only looks like JSON
    }
  }
  // the literal test first: a regex that may match after any newline scans the whole head
  const exit = (head.includes('Exit code: ') ? EXIT_CODE.exec(head) : null) ?? (head.includes('Process exited') ? PROCESS_EXITED.exec(head) : null);
  if (exit?.[1]) info.exitCode = Number(exit[1]);
  if (STILL_RUNNING.test(head)) info.stillRunning = true;
  // the wall time of a process still running is how long Codex waited, not how long it ran
  const wall = head.includes('Wall time') && !info.stillRunning ? WALL_TIME.exec(head) : null;
  if (wall?.[1]) info.durationMs = Number(wall[1]) * 1000;
  if (info.exitCode === 124 && head.includes('timed out')) {
    info.success = false;
    info.errorType = 'timeout';
  }
  if (head.startsWith('Script failed')) {
    info.success = false;
    info.errorType = 'script_failed';
  } else if (/^aborted(?: by user)?\b/.test(head)) {
    info.success = false;
    info.errorType = 'aborted';
  } else if (head.startsWith('tool call error:')) {
    info.success = false;
    info.errorType = 'tool_error';
  } else if (/^failed in sandbox\b/.test(head)) {
    info.success = false;
    info.errorType = 'sandbox_denied';
  } else if (/^(?:error: Failed to|Invalid patch|apply_patch verification failed)/.test(head)) {
    info.success = false;
    info.errorType = 'patch_failed';
  }
  return finish(info);
}

function finish(info: ToolResultInfo): ToolResultInfo {
  if (info.exitCode !== undefined && info.exitCode !== 0 && info.success === undefined) {
    info.success = false;
    info.errorType = 'exit_code';
  }
  return info;
}

/** MCP tools are recorded as function calls whose name (or namespace) encodes the server. */
export function decodeMcpName(name: string, namespace?: string | null): { server: string; tool: string } | undefined {
  if (namespace) {
    const ns = /^mcp__(.+?)_*$/.exec(namespace);
    if (ns?.[1]) return { server: ns[1], tool: name };
  }
  let m = /^(.+?)__OAI_CODEX_MCP__(.+)$/.exec(name);
  if (m?.[1] && m[2]) return { server: m[1], tool: m[2] };
  m = /^mcp__(.+?)__(.+)$/.exec(name);
  if (m?.[1] && m[2]) return { server: m[1], tool: m[2] };
  m = /^([A-Za-z0-9][\w.-]*?)__(\w[\w.-]*)$/.exec(name);
  if (m?.[1] && m[2]) return { server: m[1], tool: m[2] };
  return undefined;
}

export function durationMs(d: { secs: number; nanos: number } | null | undefined): number | undefined {
  return d ? d.secs * 1000 + d.nanos / 1e6 : undefined;
}

/**
 * How an MCP call's `Result` failed: `{Err}` is the call itself failing, `{Ok: {isError: true}}`
 * the tool reporting an error; the text is what came back. Undefined when it went well.
 */
export function mcpFailure(result: unknown): { errorType: 'mcp_error' | 'tool_error'; message: string } | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const r = result as { Err?: unknown; Ok?: { isError?: unknown; is_error?: unknown; content?: unknown } };
  if ('Err' in r) return { errorType: 'mcp_error', message: typeof r.Err === 'string' ? r.Err : jsonText(r.Err) };
  if (r.Ok?.isError === true || r.Ok?.is_error === true) return { errorType: 'tool_error', message: contentText(r.Ok.content) };
  return undefined;
}

/** The name of a Codex error: `codex_error_info` is a bare variant name or an object keyed by it. */
export function errorInfoName(info: unknown): string | undefined {
  if (typeof info === 'string') return info;
  if (typeof info === 'object' && info !== null && !Array.isArray(info)) return Object.keys(info)[0];
  return undefined;
}
