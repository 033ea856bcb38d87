import { deliveryConfig, type DeliveryOptions } from '../export/config.js';
import { OtlpSink } from '../export/otlp-sink.js';
import type { Delivery, SpanSink } from '../export/sink.js';
import { findInputs } from '../formats/registry.js';
import { contentPolicyOf, type ContentOptions } from '../otel/content.js';
import { AgentTree } from './agent-tree.js';
import { exportInput } from './export-input.js';
import type { ExportReport } from './report.js';

export interface ExportFileOptions extends ContentOptions, DeliveryOptions {
  serviceName?: string;
  /** the dialect (its name); recognised from the content when absent */
  format?: string;
  /** deliver somewhere else than OTLP/HTTP */
  sink?: SpanSink;
}

export type ExportFileResult = ExportReport;

/** Exports one rollout file (or bundle directory) and waits until its spans are delivered or refused. */
export async function exportFile(path: string, o: ExportFileOptions = {}): Promise<ExportFileResult> {
  const [input] = await findInputs([path]);
  if (!input) throw new Error(`${path}: no rollout found`);
  const sink = o.sink ?? new OtlpSink(deliveryConfig(o));
  const delivery: Delivery = { delivered: 0, failed: 0 };
  const { report } = await exportInput(input, {
    serviceName: o.serviceName,
    format: o.format,
    content: contentPolicyOf(o),
    tree: new AgentTree([input.path]),
    delivery,
    emit: (spans) => sink.add(spans, delivery),
  });
  await sink.close();
  return { ...report, delivered: delivery.delivered, notDelivered: delivery.failed };
}
