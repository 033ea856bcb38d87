import { truncate } from '../cut.js';
import { calcPrice, type PriceCalculationResult } from '@pydantic/genai-prices';
import type { ThreadMeta, TokenUsage } from '../model/events.js';
import type { ModelCall, Turn } from '../model/types.js';

// What a model response cost, priced locally from @pydantic/genai-prices (the price data ships
// with the pinned package). A model the data does not know gets no price: never a guess.

export const CURRENCY = 'USD';

/** Providers as the rollouts name them, where the price data uses another id. */
const PROVIDER_IDS: Record<string, string> = { azure_openai: 'azure', 'azure-openai': 'azure', claude: 'anthropic' };

// Models the price data does not know are asked about once, not once per response.
const unknown = new Set<string>();

/**
 * Below a model's first long-context tier its price is linear in each kind of token, so the
 * library is asked once per model and day for its rates (one probe per kind, plus a zero probe
 * for any fixed fee) instead of once per response; above a tier, or where the data has no tiers
 * to read, every response is priced by the library itself.
 */
interface Rates {
  fixed: number;
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
  /** token counts above this are priced by the library */
  flatBelow: number;
}
const rates = new Map<string, Rates | null>();
const PROBE = 1000;
const DAY_MS = 86_400_000;

type Usage = Record<string, number | undefined>;

function library(usage: Usage, model: string, providerId: string | undefined, time: number): PriceCalculationResult {
  try {
    return calcPrice(usage, model, { providerId, timestamp: new Date(time) });
  } catch {
    return null;
  }
}

function ratesOf(model: string, providerId: string | undefined, time: number): Rates | null {
  const zero = library({ input_tokens: 0, output_tokens: 0 }, model, providerId, time);
  if (!zero) return null;
  const per = (usage: Usage) => ((library(usage, model, providerId, time)?.total_price ?? NaN) - zero.total_price) / PROBE;
  let flatBelow = Infinity;
  for (const price of Object.values(zero.model_price)) {
    if (typeof price === 'object' && price !== null && Array.isArray(price.tiers)) for (const t of price.tiers) flatBelow = Math.min(flatBelow, t.start);
  }
  const r: Rates = {
    fixed: zero.total_price,
    input: per({ input_tokens: PROBE }),
    cacheRead: per({ input_tokens: PROBE, cache_read_tokens: PROBE }),
    cacheWrite: per({ input_tokens: PROBE, cache_write_tokens: PROBE }),
    output: per({ output_tokens: PROBE }),
    flatBelow: Math.max(0, flatBelow - PROBE),
  };
  return Object.values(r).some((v) => Number.isNaN(v)) ? null : r;
}

/**
 * The price of one response in USD, or undefined when the model (or its provider) has no price.
 * `time` picks the price in force then; input tokens include cached and cache-written ones.
 */
export function priceOf(usage: TokenUsage, model: string | undefined, provider: string | undefined, time: number): number | undefined {
  if (!model) return undefined;
  const providerId = provider ? (PROVIDER_IDS[provider] ?? provider) : undefined;
  const key = `${providerId ?? ''}\u0000${model}`;
  if (unknown.has(key)) return undefined;
  const day = `${key}\u0000${Math.floor(time / DAY_MS)}`;
  let r = rates.get(day);
  if (r === undefined) {
    r = ratesOf(model, providerId, time);
    rates.set(day, r);
  }
  const cacheWrite = usage.cacheWriteInput ?? 0;
  if (r && usage.input <= r.flatBelow && usage.output <= r.flatBelow) {
    const uncached = usage.input - usage.cachedInput - cacheWrite;
    return r.fixed + uncached * r.input + usage.cachedInput * r.cacheRead + cacheWrite * r.cacheWrite + usage.output * r.output;
  }
  const result = library({ input_tokens: usage.input, cache_read_tokens: usage.cachedInput, cache_write_tokens: usage.cacheWriteInput, output_tokens: usage.output }, model, providerId, time);
  if (!result) {
    unknown.add(key);
    return undefined;
  }
  return result.total_price;
}

/** The price a model call's chat span carries: the call's model, else its turn's; the call's provider, else the thread's. */
export function callPrice(call: ModelCall, turn: Turn, meta: ThreadMeta): number | undefined {
  return call.usage ? priceOf(call.usage, call.model ?? turn.model, call.provider ?? meta.provider ?? 'openai', call.start) : undefined;
}

/** Adds what a turn's model calls cost to `into`, with those of the sub-agents recorded inside it; names the models with no price. */
export function addTurnCost(into: CostTally, unpricedModels: Set<string>, turn: Turn, meta: ThreadMeta): void {
  for (const call of turn.modelCalls) {
    if (!call.usage) continue;
    const price = callPrice(call, turn, meta);
    addCost(into, price);
    if (price === undefined) nameUnpriced(unpricedModels, call.model ?? turn.model);
  }
  for (const agent of turn.agents ?? []) for (const t of agent.turns) addTurnCost(into, unpricedModels, t, agent.thread.meta);
}

/** Sums of what a set of responses cost, and how many of them had no price. */
export interface CostTally {
  amount: number;
  priced: number;
  unpriced: number;
}

export function newTally(): CostTally {
  return { amount: 0, priced: 0, unpriced: 0 };
}

export function addCost(into: CostTally, amount: number | undefined): void {
  if (amount === undefined) into.unpriced++;
  else {
    into.amount += amount;
    into.priced++;
  }
}

export function addTally(into: CostTally, from: CostTally): void {
  into.amount += from.amount;
  into.priced += from.priced;
  into.unpriced += from.unpriced;
}

/** Costs are written to the millionth of a dollar: float sums carry noise past that. */
export function roundCost(amount: number): number {
  return Math.round(amount * 1e6) / 1e6;
}

/** Models without a price are named in summaries and listings: a few, each short, however many and long the log's are. */
export const MAX_UNPRICED_NAMED = 8;

export function nameUnpriced(names: Set<string>, model: string | undefined): void {
  if (names.size < MAX_UNPRICED_NAMED) names.add(truncate(model ?? '(no model recorded)', 80));
}

/** Adds to a list of unpriced models the ones it does not name yet, up to the limit. */
export function addUnpricedNames(into: string[], names: Iterable<string>): void {
  for (const m of names) if (into.length < MAX_UNPRICED_NAMED && !into.includes(m)) into.push(m);
}
