import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';

export interface SessionInfo {
  /** the session id; a random UUID when not given */
  id?: string;
  agent?: string;
  model?: string;
  provider?: string;
  cwd?: string;
  version?: string;
  [key: string]: unknown;
}

export interface RecorderOptions {
  /** fdatasync after every line (survives a power cut, costs a disk flush per event) */
  durable?: boolean;
  /** clock for the recorded times; for tests */
  now?: () => Date;
}

export interface RecordedEvent {
  type: string;
  seq: number;
  timestamp: string;
  item: Record<string, unknown>;
}

export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  cached_input_tokens?: number;
  reasoning_tokens?: number;
}

/** Hears the recorder: each line right after it is written, and the close. */
export interface RecorderListener {
  line(text: string): void;
  close?(): void;
}

/**
 * Writes an agent's session as an append-only JSONL rollout: one line per event, written whole
 * and at once, never rewritten, numbered by `seq`. Reopening an existing file continues it.
 * Listeners (an exporter) hear each line after it is written; whatever they do, they cannot make
 * a write fail or wait.
 */
export class RolloutRecorder {
  readonly sessionId: string;
  private readonly fd: number;
  private seq: number;
  private readonly listeners = new Set<RecorderListener>();
  private closed = false;

  constructor(readonly path: string, session: SessionInfo = {}, private readonly opts: RecorderOptions = {}) {
    mkdirSync(dirname(path), { recursive: true });
    const earlier = existsSync(path) ? RolloutRecorder.readEvents(path) : [];
    const meta = earlier.find((e) => e.type === 'session_meta');
    this.sessionId = typeof meta?.item.id === 'string' ? meta.item.id : session.id ?? randomUUID();
    this.seq = earlier.reduce((max, e) => Math.max(max, e.seq), -1) + 1;
    this.fd = openSync(path, 'a');
    if (!meta) this.record('session_meta', { ...session, id: this.sessionId });
  }

  /** Appends one event; returns it as written. */
  record(type: string, item: Record<string, unknown> = {}): RecordedEvent {
    if (this.closed) throw new Error(`rollout recorder for ${this.path} is closed`);
    const event: RecordedEvent = { type, seq: this.seq++, timestamp: (this.opts.now?.() ?? new Date()).toISOString(), item };
    const line = `${JSON.stringify(event)}\n`;
    writeSync(this.fd, line);
    if (this.opts.durable) fdatasyncSync(this.fd);
    for (const l of this.listeners) {
      try {
        l.line(line);
      } catch {
        // A listener's failure is its own business; the recording goes on.
      }
    }
    return event;
  }

  userMessage(text: string): RecordedEvent {
    return this.record('user_message', { text });
  }

  assistantMessage(text: string, extra: { model?: string; usage?: Usage } = {}): RecordedEvent {
    return this.record('assistant_message', { text, ...extra });
  }

  toolCall(callId: string, name: string, args?: unknown, extra: { usage?: Usage; model?: string } = {}): RecordedEvent {
    return this.record('tool_call', { call_id: callId, name, arguments: args, ...extra });
  }

  toolResult(callId: string, output: unknown, extra: { exit_code?: number; duration_ms?: number; is_error?: boolean } = {}): RecordedEvent {
    return this.record('tool_result', { call_id: callId, output, ...extra });
  }

  error(message: string, extra: { call_id?: string; type?: string } = {}): RecordedEvent {
    return this.record('error', { message, ...extra });
  }

  /** Marks a turn's start and end, so an exporter can send it as soon as it ends. */
  turnStarted(turnId?: string): RecordedEvent {
    return this.record('turn_started', turnId ? { turn_id: turnId } : {});
  }

  turnEnded(status: 'completed' | 'aborted' | 'failed' = 'completed', extra: { turn_id?: string; error?: string } = {}): RecordedEvent {
    return this.record('turn_ended', { status, ...extra });
  }

  /** Hears every line written from now on; returns the unsubscribe function. */
  subscribe(listener: RecorderListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    for (const l of this.listeners) {
      try {
        l.close?.();
      } catch {
        // see record()
      }
    }
    this.listeners.clear();
  }

  /** Replays a recorded file as events, in `seq` order; a half-written last line is left out. */
  static replay(path: string): RecordedEvent[] {
    return RolloutRecorder.readEvents(path).sort((a, b) => a.seq - b.seq);
  }

  private static readEvents(path: string): RecordedEvent[] {
    const text = readFileSync(path, 'utf8');
    const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
    const events: RecordedEvent[] = [];
    for (const line of complete.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const e = JSON.parse(line) as RecordedEvent;
        if (typeof e.type === 'string' && typeof e.seq === 'number') events.push({ ...e, item: e.item ?? {} });
      } catch {
        // not one of ours: replay is of what this recorder wrote
      }
    }
    return events;
  }
}
