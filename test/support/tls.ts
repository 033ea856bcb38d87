// A throw-away certificate authority for TLS tests: a self-signed server certificate for
// localhost / 127.0.0.1 that also signs one client certificate, written as PEM files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export interface TestCerts {
  /** PEM contents */
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  /** the same, as files for OTEL_EXPORTER_OTLP_* */
  files: { ca: string; clientKey: string; clientCert: string };
}

export async function makeCerts(): Promise<TestCerts> {
  const made = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
    clientCertificate: { cn: 'rollout-otel-test-client' },
  });
  const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-tls-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  return {
    serverKey: made.private,
    serverCert: made.cert,
    clientKey: made.clientprivate!,
    clientCert: made.clientcert!,
    files: { ca: file('ca.pem', made.cert), clientKey: file('client-key.pem', made.clientprivate!), clientCert: file('client.pem', made.clientcert!) },
  };
}
