/**
 * The latest time a log may name: OTLP carries nanoseconds since 1970 in 64 bits, which end in
 * July 2554. A later time (year 9999, a unit mix-up) is unreadable, never wrapped around.
 */
export const LATEST_MS = Date.UTC(2500, 0, 1);

/** The time, or NaN when it is not a time OTLP can carry. */
export function usableTime(ms: number): number {
  return ms >= 0 && ms < LATEST_MS ? ms : NaN;
}
