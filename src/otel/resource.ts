import { hostname } from 'node:os';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { InstrumentationScope } from '@opentelemetry/core';
import { VERSION } from '../version.js';

// The exporter groups spans by resource and scope object identity: share one of each.
export const SCOPE: InstrumentationScope = { name: 'rollout-otel', version: VERSION };

const cache = new Map<string, Resource>();

/** One resource per trace: the same service and host for every span avoids Jaeger clock-skew warnings. */
export function resourceFor(serviceName: string, agentVersion: string | undefined, host = hostname()): Resource {
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
