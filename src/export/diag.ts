import { diag, DiagLogLevel } from '@opentelemetry/api';

/**
 * The OTel SDK reports partial successes and dropped data only through diag, which is silent by
 * default: its warnings and errors go to `write`, each distinct one once.
 */
export function reportOtelDiagnostics(write: (text: string) => void): void {
  const seen = new Set<string>();
  const log = (...args: unknown[]) => {
    const text = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    if (seen.has(text)) return;
    seen.add(text);
    write(text);
  };
  diag.setLogger({ error: log, warn: log, info: () => {}, debug: () => {}, verbose: () => {} }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}
