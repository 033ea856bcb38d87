import { ThreadAssembler } from '../../src/model/assembler.ts';
import type { RolloutEvent } from '../../src/model/events.ts';
import type { Thread, Turn } from '../../src/model/types.ts';

/** A domain event without its time and line: `assemble` gives those. */
export type Ev = RolloutEvent extends infer E ? (E extends RolloutEvent ? Omit<E, 'time' | 'line'> : never) : never;

/** Feeds events one line apart (line n at n seconds) and returns every closed turn and the thread. */
export function assemble(events: Ev[]): { turns: Turn[]; thread: Thread } {
  const a = new ThreadAssembler({ path: 'rules.jsonl' });
  const turns: Turn[] = [];
  events.forEach((e, i) => turns.push(...a.push({ ...e, time: (i + 1) * 1000, line: i + 1 } as RolloutEvent)));
  const end = a.finish();
  return { turns: [...turns, ...end.turns], thread: end.thread as Thread };
}
