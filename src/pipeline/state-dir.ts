import { homedir } from 'node:os';
import { join } from 'node:path';

// Where rollout-otel keeps what must outlive a run: the delivery ledger (export/ledger.ts).

/** The user's state directory: $XDG_STATE_HOME, else the platform's usual place. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'rollout-otel');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'rollout-otel');
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'rollout-otel');
  return join(homedir(), '.local', 'state', 'rollout-otel');
}
