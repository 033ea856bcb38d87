// An OTLP/gRPC trace receiver for tests: the TraceService Export method on a real grpc-js server,
// decoding requests with the same protobuf schema as the HTTP receiver.
import { Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { decode, waitForSpans, type ReceivedRequest, type ReceivedSpan, type Receiver, type TlsFiles } from './otlp-receiver.ts';

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const same = (b: Buffer) => b;

export interface GrpcReceiverOptions {
  /** answer the first N calls with UNAVAILABLE (which the exporter retries) */
  failFirst?: number;
  /** serve TLS with this key and certificate; with `ca`, also require a client certificate it signed */
  tls?: TlsFiles;
}

/** `url` is the endpoint to give the exporter: http://127.0.0.1:port, or https:// with TLS. */
export async function startGrpcReceiver(opts: GrpcReceiverOptions = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();
  let arrived = 0;
  let failures = 0;
  const spans = () => requests.filter((r) => r.status === 0).flatMap((r) => r.spans);

  const server = new Server();
  server.addService(
    { export: { path: EXPORT_PATH, requestStream: false, responseStream: false, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same } },
    {
      export(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) {
        const attempt = arrived++;
        let received: ReceivedSpan[];
        try {
          received = decode(call.request, 'protobuf');
        } catch (err) {
          failures++;
          return callback({ code: status.INVALID_ARGUMENT, details: `cannot decode: ${(err as Error).message}` });
        }
        const code = attempt < (opts.failFirst ?? 0) ? status.UNAVAILABLE : status.OK;
        const peer = call.getAuthContext()?.sslPeerCertificate;
        requests.push({
          path: EXPORT_PATH,
          contentType: 'application/grpc',
          encoding: 'protobuf',
          gzip: call.metadata.get('grpc-encoding').includes('gzip'),
          bytes: call.request.length,
          headers: headersOf(call.metadata),
          status: code,
          spans: received,
          ...(peer?.subject ? { clientCertificate: String(peer.subject.CN) } : {}),
        });
        if (code !== status.OK) {
          failures++;
          return callback({ code, details: 'failing on purpose' });
        }
        callback(null, Buffer.alloc(0)); // an empty ExportTraceServiceResponse
        for (const wake of waiters) wake();
      },
    },
  );
  const tls = opts.tls;
  const credentials = tls
    ? ServerCredentials.createSsl(tls.ca ? Buffer.from(tls.ca) : null, [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }], Boolean(tls.ca))
    : ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  return {
    url,
    tracesUrl: url,
    requests,
    spans,
    get failures() {
      return failures;
    },
    waitForSpans: (n, timeoutMs = 10_000) => waitForSpans(spans, waiters, n, timeoutMs),
    close() {
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}

function headersOf(metadata: Metadata): Record<string, string | string[] | undefined> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata.getMap())) out[k] = String(v);
  return out;
}
