import { hostname } from 'node:os';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { InstrumentationScope } from '@opentelemetry/core';
import { VERSION } from '../version.js';
import { truncate } from '../cut.js';
import { MAX_FACT_CHARS } from './content.js';

// The exporter groups spans by resource and scope object identity: share one of each.
export const SCOPE: InstrumentationScope = { name: 'rollout-otel', version: VERSION };

const cache = new Map<string, Resource>();

/** One resource per trace: the same service and host for every span avoids Jaeger clock-skew warnings. */
export function resourceFor(name: string, version: string | undefined, host = hostname()): Resource {
  const serviceName = truncate(name, MAX_FACT_CHARS);
  const agentVersion = version === undefined ? undefined : truncate(version, MAX_FACT_CHARS);
  const key = `${serviceName}\u0000${agentVersion ?? ''}\u0000${host}`;
  let r = cache.get(key);
  if (!r) {
    r = resourceFromAttributes({
      'service.name': serviceName,
      ...(agentVersion ? { 'service.version': agentVersion } : {}),
      'host.name': host,
      'telemetry.sdk.name': 'rollout-otel',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.version': VERSION,
    });
    cache.set(key, r);
  }
  return r;
}
