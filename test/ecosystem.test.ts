import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { fixture, runCli } from './support/cli.ts';
import { startGrpcReceiver } from './support/grpc-receiver.ts';
import { startReceiver, type ReceivedSpan, type Receiver } from './support/otlp-receiver.ts';
import { makeCerts, type TestCerts } from './support/tls.ts';

// OTLP/gRPC, OTEL_RESOURCE_ATTRIBUTES, the TLS variables and endpoint hints, through the built CLI
// into real receivers (grpc-js and node:https servers decoding the protobuf they are sent).

const SOULPASS = fixture('soulpass-0.122.0-tui-compaction-aborts.jsonl');
const XEUS = fixture('xeus-0.129.0-tui-websearch.jsonl');

const sorted = (spans: ReceivedSpan[]) => [...spans].sort((a, b) => a.spanId.localeCompare(b.spanId));

describe('OTLP/gRPC', () => {
  let http: Receiver;
  let httpSpans: ReceivedSpan[];
  beforeAll(async () => {
    http = await startReceiver();
    const run = await runCli(['export', SOULPASS, XEUS], { OTEL_EXPORTER_OTLP_ENDPOINT: http.url });
    assert.equal(run.code, 0, run.stderr);
    httpSpans = http.spans();
  });
  afterAll(() => http.close());

  test('--protocol grpc sends the spans OTLP/HTTP sends, headers as metadata, with gzip', async () => {
    const grpc = await startGrpcReceiver();
    try {
      const run = await runCli(['export', '--protocol', 'grpc', '-e', grpc.url, '-H', 'x-team=infra', '--compression', 'gzip', SOULPASS, XEUS]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, new RegExp(`delivered ${httpSpans.length} spans to ${grpc.url} in \\d+ requests?`));
      assert.deepEqual(sorted(grpc.spans()), sorted(httpSpans));
      assert.equal(grpc.requests[0]!.headers['x-team'], 'infra');
      assert.equal(grpc.requests[0]!.path, '/opentelemetry.proto.collector.trace.v1.TraceService/Export');
    } finally {
      await grpc.close();
    }
  });

  test('OTEL_EXPORTER_OTLP_PROTOCOL=grpc with OTEL_EXPORTER_OTLP_ENDPOINT; UNAVAILABLE is retried', async () => {
    const grpc = await startGrpcReceiver({ failFirst: 1 });
    try {
      const run = await runCli(['export', XEUS], { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: grpc.url });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(grpc.requests.map((r) => r.status), [14, 0]);
      assert.equal(grpc.spans().length, 4);
    } finally {
      await grpc.close();
    }
  });

  test('the whole fixtures tree with content: every gRPC request under the receiver’s 4 MiB limit, nothing lost', async () => {
    const grpc = await startGrpcReceiver();
    const http2 = await startReceiver();
    try {
      const args = ['export', '--capture-content', '--content-limit', '1000000', fixture('.')];
      const viaGrpc = await runCli([...args.slice(0, 1), '-p', 'grpc', '-e', grpc.url, ...args.slice(1)]);
      const viaHttp = await runCli([...args.slice(0, 1), '-e', http2.url, ...args.slice(1)]);
      assert.equal(viaGrpc.code, viaHttp.code, viaGrpc.stderr);
      assert.doesNotMatch(viaGrpc.stderr, /NOT delivered/);
      assert.ok(grpc.requests.length > 1);
      assert.ok(grpc.requests.reduce((n, r) => n + r.bytes, 0) > 4 * 1024 * 1024, 'more than one request’s worth');
      for (const r of grpc.requests) assert.ok(r.bytes < 4 * 1024 * 1024, `${r.bytes} bytes`);
      assert.deepEqual(sorted(grpc.spans()), sorted(http2.spans()));
    } finally {
      await grpc.close();
      await http2.close();
    }
  });

  test('a gRPC collector that is not there: not delivered, exit code 1, one line saying why', async () => {
    const grpc = await startGrpcReceiver();
    const url = grpc.url;
    await grpc.close();
    const run = await runCli(['export', '-p', 'grpc', '-e', url, '--timeout', '1000', XEUS]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`NOT delivered: 4 spans \\(gRPC \\d+ [A-Z_]+: .*\\)`));
  });
});

describe('OTEL_RESOURCE_ATTRIBUTES', () => {
  const env = { OTEL_RESOURCE_ATTRIBUTES: 'team=infra%2Cml, deployment.environment.name=dev,service.name=not-ours', OTEL_SERVICE_NAME: 'codex-team' };

  for (const protocol of ['http/protobuf', 'http/json', 'grpc'] as const) {
    test(`merged into every resource, ours winning on service.name (${protocol})`, async () => {
      const receiver = protocol === 'grpc' ? await startGrpcReceiver() : await startReceiver();
      try {
        const run = await runCli(['export', '-p', protocol, '-e', receiver.url, SOULPASS, XEUS], env);
        assert.equal(run.code, 0, run.stderr);
        const spans = receiver.spans();
        assert.ok(spans.length > 4);
        for (const s of spans) {
          assert.equal(s.resource['team'], 'infra,ml');
          assert.equal(s.resource['deployment.environment.name'], 'dev');
          assert.equal(s.resource['service.name'], 'codex-team');
          assert.equal(s.resource['telemetry.sdk.name'], 'rollout-otel');
        }
        // one resource per trace in the request, not one per span
        assert.equal(receiver.requests.length, 1);
      } finally {
        await receiver.close();
      }
    });
  }

  test('an entry that is not key=value is a usage error naming the variable', async () => {
    const run = await runCli(['export', XEUS], { OTEL_RESOURCE_ATTRIBUTES: 'team=infra,oops' });
    assert.equal(run.code, 2);
    assert.equal(run.stderr.trim(), 'rollout-otel: OTEL_RESOURCE_ATTRIBUTES: "oops" is not key=value');
  });
});

describe('TLS from the standard variables', () => {
  let certs: TestCerts;
  beforeAll(async () => {
    certs = await makeCerts();
  });
  const mtls = () => ({
    OTEL_EXPORTER_OTLP_CERTIFICATE: certs.files.ca,
    OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.files.clientKey,
    OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certs.files.clientCert,
  });

  for (const protocol of ['http/protobuf', 'grpc'] as const) {
    test(`${protocol}: the CA and client certificate from the variables; without the CA the server is not trusted`, async () => {
      const tls = { key: certs.serverKey, cert: certs.serverCert, ca: certs.serverCert };
      const receiver = protocol === 'grpc' ? await startGrpcReceiver({ tls }) : await startReceiver({ tls });
      try {
        assert.match(receiver.url, /^https:/);
        const run = await runCli(['export', '-p', protocol, '-e', receiver.url, XEUS], mtls());
        assert.equal(run.code, 0, run.stderr);
        assert.equal(receiver.spans().length, 4);
        assert.equal(receiver.requests[0]!.clientCertificate, 'rollout-otel-test-client');

        const untrusted = await runCli(['export', '-p', protocol, '-e', receiver.url, '--timeout', '1000', XEUS]);
        assert.equal(untrusted.code, 1, untrusted.stderr);
        assert.match(untrusted.stderr, /NOT delivered: 4 spans/);
        assert.equal(receiver.spans().length, 4, 'nothing more arrived');
      } finally {
        await receiver.close();
      }
    });
  }

  test('the TRACES_ variables win; a gRPC endpoint without a scheme is TLS', async () => {
    const receiver = await startGrpcReceiver({ tls: { key: certs.serverKey, cert: certs.serverCert } });
    try {
      const hostPort = receiver.url.replace('https://', '');
      const run = await runCli(['export', '-p', 'grpc', '-e', hostPort, XEUS], {
        OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ignored.pem',
        OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: certs.files.ca,
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(receiver.spans().length, 4);
    } finally {
      await receiver.close();
    }
  });

  test('a certificate file that cannot be read, or a key without its certificate: exit code 2, one line', async () => {
    const missing = await runCli(['export', XEUS], { OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem' });
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr.trim(), 'rollout-otel: OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read /nonexistent/ca.pem (ENOENT)');
    const half = await runCli(['export', XEUS], { OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.files.clientKey });
    assert.equal(half.code, 2);
    assert.match(half.stderr, /CLIENT_KEY and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE go together/);
  });
});

describe('endpoint mistakes get a hint', () => {
  test('no scheme on an HTTP endpoint: usage error with the likely URL', async () => {
    const run = await runCli(['export', '-e', 'localhost:4318', XEUS]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr.trim(), 'rollout-otel: OTLP endpoint "localhost:4318" has no scheme: did you mean http://localhost:4318?');
    const env = await runCli(['export', XEUS], { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' });
    assert.match(env.stderr, /did you mean http:\/\/collector:4318\?/);
  });

  test('a gRPC endpoint with a path: usage error', async () => {
    const run = await runCli(['export', '-p', 'grpc', '-e', 'http://localhost:4317/v1/traces', XEUS]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /has a path; gRPC takes none \(did you mean http:\/\/localhost:4317\?\)/);
  });

  test('HTTP sent to a gRPC receiver is not delivered; on port 4317 the failure suggests --protocol grpc', async () => {
    const grpc = await startGrpcReceiver();
    try {
      // the hint keys on the port; a gRPC server answering HTTP/1.1 is the real-life failure
      const port = new URL(grpc.url).port;
      const run = await runCli(['export', '-e', `http://127.0.0.1:${port}`, '--timeout', '1000', XEUS]);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /NOT delivered: 4 spans \(/);
      const onStandardPort = await runCli(['export', '-e', 'http://127.0.0.1:4317', '--timeout', '1000', XEUS]);
      assert.equal(onStandardPort.code, 1);
      assert.match(onStandardPort.stderr, /hint: port 4317 is usually OTLP\/gRPC: add --protocol grpc, or send OTLP\/HTTP to port 4318\)/);
    } finally {
      await grpc.close();
    }
  });

  test("Jaeger's UI port, and gRPC sent to the HTTP port", async () => {
    const ui = await runCli(['export', '-e', 'http://127.0.0.1:16686', '--timeout', '1000', XEUS]);
    assert.equal(ui.code, 1);
    assert.match(ui.stderr, /hint: port 16686 is Jaeger's UI, not OTLP: send to http:\/\/127\.0\.0\.1:4318\)/);
    const grpc = await runCli(['export', '-p', 'grpc', '-e', 'http://127.0.0.1:4318', '--timeout', '1000', XEUS]);
    assert.equal(grpc.code, 1);
    assert.match(grpc.stderr, /hint: port 4318 is usually OTLP\/HTTP: leave out --protocol grpc, or send gRPC to port 4317\)/);
  });
});

describe('the command line itself', () => {
  test('-v, -V and --version print the version; --help has examples and the exit codes', async () => {
    const { version } = (await import('../package.json', { with: { type: 'json' } })).default as { version: string };
    for (const flag of ['-v', '-V', '--version']) {
      const run = await runCli([flag]);
      assert.equal(run.code, 0);
      assert.equal(run.stdout, `${version}\n`);
    }
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Examples:\n(.*\n)*\s+rollout-otel export -p grpc/);
    for (const code of [0, 1, 2, 3, 4]) assert.match(help.stdout, new RegExp(`\\n  ${code}  \\S`));
    const exportHelp = await runCli(['export', '--help']);
    assert.match(exportHelp.stdout, /"grpc"/);
  });
});
