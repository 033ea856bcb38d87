import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * OTEL_RESOURCE_ATTRIBUTES for spans already built: each span is seen through an object whose
 * resource is the span's own merged over the given attributes (the span's keys win). One merged
 * resource per original keeps them grouped by identity in the request.
 */
export function withResourceAttributes(attributes: Record<string, string>): (span: ReadableSpan) => ReadableSpan {
  const base = resourceFromAttributes(attributes);
  const merged = new WeakMap<Resource, Resource>();
  return (span) => {
    let resource = merged.get(span.resource);
    if (!resource) merged.set(span.resource, (resource = base.merge(span.resource)));
    return Object.create(span, { resource: { value: resource, enumerable: true } }) as ReadableSpan;
  };
}
