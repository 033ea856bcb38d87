import type { DecodeWarning, RolloutEvent } from '../model/events.js';

export interface Decoded {
  events: RolloutEvent[];
  warning?: DecodeWarning;
}

/** One input dialect: decodes a file's parsed lines, in order, into domain events. */
export interface LineDecoder {
  decode(value: unknown, line: number): Decoded;
}
