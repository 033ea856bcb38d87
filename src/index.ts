// The library: record an agent's rollout, follow it live, or export a finished file.
export { RolloutRecorder, type RecordedEvent, type RecorderListener, type RecorderOptions, type SessionInfo, type Usage } from './recorder/recorder.js';
export { exportLive, LiveExporter, type LiveExportOptions, type LiveExportReport } from './recorder/live-exporter.js';
export { exportFile, type ExportFileOptions, type ExportFileResult } from './pipeline/export-file.js';
export type { ExportReport, SessionReport } from './pipeline/report.js';
export { resolveOtlpConfig, ConfigError, type DeliveryOptions, type OtlpConfig } from './export/config.js';
export type { SpanSink, Delivery } from './export/sink.js';
export { readLines, type SourceLine } from './sources/lines.js';
export { VERSION } from './version.js';
