import { calcPrice } from '@pydantic/genai-prices';
import type { TokenUsage } from '../model/events.js';

// What a model response cost, priced locally from @pydantic/genai-prices (the price data ships
// with the pinned package). A model the data does not know gets no price: never a guess.

export const CURRENCY = 'USD';

/** Providers as the rollouts name them, where the price data uses another id. */
const PROVIDER_IDS: Record<string, string> = { azure_openai: 'azure', 'azure-openai': 'azure', claude: 'anthropic' };

// Models the price data does not know are asked about once, not once per response.
const unknown = new Set<string>();

/**
 * The price of one response in USD, or undefined when the model (or its provider) has no price.
 * `time` picks the price in force then; input tokens include cached and cache-written ones.
 */
export function priceOf(usage: TokenUsage, model: string | undefined, provider: string | undefined, time: number): number | undefined {
  if (!model) return undefined;
  const providerId = provider ? (PROVIDER_IDS[provider] ?? provider) : undefined;
  const key = `${providerId ?? ''}\u0000${model}`;
  if (unknown.has(key)) return undefined;
  let result;
  try {
    result = calcPrice(
      { input_tokens: usage.input, cache_read_tokens: usage.cachedInput, cache_write_tokens: usage.cacheWriteInput, output_tokens: usage.output },
      model,
      { providerId, timestamp: new Date(time) },
    );
  } catch {
    result = null;
  }
  if (!result) {
    unknown.add(key);
    return undefined;
  }
  return result.total_price;
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
