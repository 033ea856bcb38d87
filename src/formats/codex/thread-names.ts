import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAX_INDEX_BYTES = 16 * 1024 * 1024;

/** Thread names Codex keeps beside its sessions (`session_index.jsonl`, the last name per id wins). */
export function codexThreadNames(home: string): Map<string, string> {
  const names = new Map<string, string>();
  let text: string;
  try {
    const file = join(home, 'session_index.jsonl');
    // a rename log: small, but never read without limit
    if ((statSync(file, { throwIfNoEntry: false })?.size ?? Infinity) > MAX_INDEX_BYTES) return names;
    text = readFileSync(file, 'utf8');
  } catch {
    return names;
  }
  for (const line of text.split('\n')) {
    try {
      const v = JSON.parse(line) as { id?: unknown; thread_name?: unknown };
      if (typeof v.id === 'string' && typeof v.thread_name === 'string' && v.thread_name.trim()) names.set(v.id, v.thread_name.trim());
    } catch {
      // a torn line: the ones before it still count
    }
  }
  return names;
}
