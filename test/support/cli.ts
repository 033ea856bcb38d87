import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/rollout-otel.js', import.meta.url));
export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

// Each run gets a state directory of its own (the delivery ledger lives there) unless `env` names one.
const stateRoot = mkdtempSync(join(tmpdir(), 'rollout-otel-state-'));
let runs = 0;
process.on('exit', () => rmSync(stateRoot, { recursive: true, force: true }));

/** Runs the built CLI as a user would, with a clean OTel environment plus `env`. */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  base.XDG_STATE_HOME = join(stateRoot, String(runs++));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...env }, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}
