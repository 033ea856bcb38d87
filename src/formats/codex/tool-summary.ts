import type { ToolSummary } from '../../model/events.js';
import { isObject, jsonObject } from '../json.js';

// What a tool call did, read from its arguments and end events without keeping their text: the
// program a command ran, Codex's own kind of command, how many files and hunks a patch touched,
// what a web search did. The command line, paths and queries are kept too, but only ever
// exported as content.

const SHELLS = /^(?:ba|z|k|da|fi)?sh$|^(?:pwsh|powershell|cmd)$/;
const SCRIPT_FLAGS = new Set(['-c', '-lc', '-ic', '-cl', '-l', '-i', '-Command', '-command', '-NoProfile', '-NonInteractive', '/c', '/C']);
const ASSIGNMENT = /^\$?[A-Za-z_][A-Za-z0-9_:]*=/;
const PREFIXES = new Set(['sudo', 'env', 'time', 'nice', 'nohup', 'command', 'exec', 'then', 'do', 'else', '!', '{', '(']);
const KEYWORDS = new Set(['if', 'for', 'foreach', 'while', 'until', 'case', 'function', 'try', 'set', 'cd', 'Set-Location', 'pushd', 'export', 'source', '.']);
const PROGRAM = /^[\w.+~@:\\/-]+$/;

/** The file name of a program, without its directory or a Windows `.exe`. */
function baseName(word: string): string {
  const name = word.replace(/^["']|["']$/g, '').split(/[\\/]/).pop() ?? word;
  return name.replace(/\.exe$/i, '');
}

/** The words of a command line, quotes kept together (enough to find its first program). */
function words(line: string): string[] {
  return line.match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
}

/** The first program of a script: set-up (`cd dir &&`, `FOO=1`, `if`, `$x = …;`) is skipped. */
function firstProgram(script: string): string | undefined {
  for (const segment of script.split(/&&|\|\||[;&|\n(){}]/).slice(0, 12)) {
    const argv = words(segment);
    let i = 0;
    while (i < argv.length && (ASSIGNMENT.test(argv[i] as string) || PREFIXES.has(argv[i] as string))) i++;
    const word = argv[i];
    if (word === undefined || KEYWORDS.has(word) || word.startsWith('$') || !PROGRAM.test(word.replace(/^["']|["']$/g, ''))) continue;
    const name = baseName(word);
    if (name !== '' && name.length <= 64) return name;
  }
  return undefined;
}

/** The program a command runs: a shell's `-c` script is looked into. */
export function executableOf(command: string | string[]): string | undefined {
  let argv = typeof command === 'string' ? undefined : command;
  let script = typeof command === 'string' ? command : undefined;
  for (let depth = 0; depth < 3 && argv; depth++) {
    const first = argv[0];
    if (first === undefined || !SHELLS.test(baseName(first).toLowerCase())) break;
    const inner = argv.slice(1).find((a) => !SCRIPT_FLAGS.has(a))?.replace(/^(["'])([\s\S]*)\1$/, '$2');
    if (inner === undefined) break;
    script = inner;
    argv = words(inner);
    if (!SHELLS.test(baseName(argv[0] ?? '').toLowerCase())) break;
    script = undefined;
  }
  return firstProgram(script ?? argv?.join(' ') ?? '');
}

function commandText(command: unknown): string | undefined {
  if (typeof command === 'string') return command;
  if (Array.isArray(command) && command.every((c) => typeof c === 'string')) return (command as string[]).join(' ');
  return undefined;
}

/** Codex's `parsed_cmd`: one `{type: read | list_files | search | unknown}` per command of the line. */
export function commandKind(parsed: unknown): string | undefined {
  if (!Array.isArray(parsed) || parsed.length === 0) return undefined;
  const kinds = [...new Set(parsed.map((p) => (isObject(p) && typeof p.type === 'string' ? p.type : 'unknown')))];
  return kinds.join(',');
}

/** A command as run (`["bash","-lc","git status"]` or a line), with Codex's reading of it. */
export function commandSummary(command: unknown, parsed?: unknown): ToolSummary | undefined {
  const argv = Array.isArray(command) && command.every((c) => typeof c === 'string') ? (command as string[]) : typeof command === 'string' ? command : undefined;
  const summary: ToolSummary = {};
  if (argv !== undefined) {
    summary.executable = executableOf(argv);
    summary.command = commandText(command);
  }
  summary.commandKind = commandKind(parsed);
  return summary.executable || summary.commandKind || summary.command ? summary : undefined;
}

/** A call's arguments: `{cmd}` (exec_command), `{command: [...]}` (shell), `{command: "…"}` (shell_command). */
export function argumentsSummary(name: string, args: unknown): ToolSummary | undefined {
  if (name === 'apply_patch') {
    const text = typeof args === 'string' && args.startsWith('{') ? jsonObject(args)?.input : args;
    return typeof text === 'string' ? patchTextSummary(text) : undefined;
  }
  if (!COMMAND_TOOLS.has(name)) return undefined;
  const parsed = jsonObject(args);
  if (!parsed) return undefined;
  return commandSummary(parsed.cmd ?? parsed.command);
}

const COMMAND_TOOLS = new Set(['exec_command', 'shell', 'shell_command', 'container.exec', 'local_shell']);

/** An apply_patch envelope: `*** Add File:`, `*** Update File:`, `*** Delete File:` headers, `@@` hunks. */
export function patchTextSummary(text: string): ToolSummary | undefined {
  if (!text.includes('*** Begin Patch')) return undefined;
  const s: ToolSummary = { filesAdded: 0, filesUpdated: 0, filesDeleted: 0, hunks: 0, paths: [] };
  let inUpdate = false;
  let hunksInFile = 0;
  const closeFile = () => {
    if (inUpdate) s.hunks = (s.hunks ?? 0) + Math.max(hunksInFile, 1);
    inUpdate = false;
    hunksInFile = 0;
  };
  for (const line of text.split('\n')) {
    const header = /^\*\*\* (Add|Update|Delete) File: (.*)$/.exec(line);
    if (header) {
      closeFile();
      const kind = header[1];
      s.paths?.push((header[2] as string).trim());
      if (kind === 'Add') {
        s.filesAdded = (s.filesAdded ?? 0) + 1;
        s.hunks = (s.hunks ?? 0) + 1;
      } else if (kind === 'Delete') {
        s.filesDeleted = (s.filesDeleted ?? 0) + 1;
        s.hunks = (s.hunks ?? 0) + 1;
      } else {
        s.filesUpdated = (s.filesUpdated ?? 0) + 1;
        inUpdate = true;
      }
    } else if (inUpdate && line.startsWith('@@')) hunksInFile++;
  }
  closeFile();
  return s.paths?.length ? s : undefined;
}

/** `patch_apply_end.changes`: `{path: {type: add | update | delete, unified_diff?}}`. */
export function patchChangesSummary(changes: unknown): ToolSummary | undefined {
  if (!isObject(changes)) return undefined;
  const s: ToolSummary = { filesAdded: 0, filesUpdated: 0, filesDeleted: 0, hunks: 0, paths: [] };
  for (const [path, change] of Object.entries(changes)) {
    const type = isObject(change) ? change.type : undefined;
    s.paths?.push(path);
    if (type === 'add') s.filesAdded = (s.filesAdded ?? 0) + 1;
    else if (type === 'delete') s.filesDeleted = (s.filesDeleted ?? 0) + 1;
    else s.filesUpdated = (s.filesUpdated ?? 0) + 1;
    const diff = isObject(change) && typeof change.unified_diff === 'string' ? change.unified_diff : undefined;
    const hunks = diff ? (diff.match(/^@@/gm)?.length ?? 0) : 0;
    s.hunks = (s.hunks ?? 0) + Math.max(hunks, 1);
  }
  return s.paths?.length ? s : undefined;
}

/** A web search's action: `{type: search | open_page | find_in_page, query | url | pattern}`. */
export function searchSummary(action: unknown, query?: unknown): ToolSummary | undefined {
  const a = isObject(action) ? action : undefined;
  const kind = typeof a?.type === 'string' ? a.type : undefined;
  const text = [a?.query, a?.url, a?.pattern, query].find((q): q is string => typeof q === 'string' && q !== '');
  return kind || text ? { searchAction: kind, query: text } : undefined;
}
