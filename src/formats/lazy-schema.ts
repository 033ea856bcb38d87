import { createRequire } from 'node:module';
import type { z } from 'zod';

// Loading zod and building schemas is a sizeable part of start-up (~60 ms, again in every worker
// thread), so a format's schemas are built the first time a line needs one.

/** A schema built on first use. */
export interface Schema<T> {
  /** the hand-written check when there is one and it answers, else zod */
  safeParse(value: unknown): z.ZodSafeParseResult<T>;
  /** zod alone */
  zodSafeParse(value: unknown): z.ZodSafeParseResult<T>;
}
export type Infer<S> = S extends Schema<infer T> ? T : never;

/**
 * Returns a maker of lazy schemas for what `build` returns. A schema may have a quick check that
 * answers for the usual values (returning the value itself) and leaves the rest to zod.
 */
export function lazySchemas<B extends Record<string, z.ZodType>>(build: (zod: typeof z) => B) {
  let built: B | undefined;
  const schemas = () => (built ??= build((createRequire(import.meta.url)('zod') as typeof import('zod')).z));
  return <K extends keyof B>(name: K, quick?: (value: unknown) => unknown): Schema<z.output<B[K]>> => {
    type T = z.output<B[K]>;
    const zodSafeParse = (value: unknown) => schemas()[name]!.safeParse(value) as z.ZodSafeParseResult<T>;
    return {
      safeParse: (value) => {
        const q = quick?.(value);
        return q !== undefined ? ({ success: true, data: q as T } as z.ZodSafeParseResult<T>) : zodSafeParse(value);
      },
      zodSafeParse,
    };
  };
}
