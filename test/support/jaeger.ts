// Finds or starts a Jaeger v2 for end-to-end tests, plus small clients for its query APIs.
// Nothing is built here: `npm run jaeger:prepare` builds and caches a binary beforehand.
import { afterAll, beforeAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export interface JaegerHandle {
  /** Base URL; OTLP/HTTP traces go to `${otlpEndpoint}/v1/traces`. */
  otlpEndpoint: string;
  /** OTLP/gRPC endpoint, http://host:port */
  otlpGrpcEndpoint: string;
  /** Base URL of the UI and HTTP query APIs. */
  queryUrl: string;
  /** How this Jaeger was obtained. */
  source: string;
  stop(): Promise<void>;
}

export interface V1KeyValue {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64' | 'binary';
  value: unknown;
}
export interface V1Reference {
  refType: 'CHILD_OF' | 'FOLLOWS_FROM';
  traceID: string;
  spanID: string;
}
export interface V1Log {
  timestamp: number; // µs since epoch
  fields: V1KeyValue[];
}
export interface V1Span {
  traceID: string;
  spanID: string;
  flags?: number;
  operationName: string;
  references: V1Reference[];
  startTime: number; // µs since epoch
  duration: number; // µs
  tags: V1KeyValue[];
  logs: V1Log[];
  processID: string;
  warnings: string[] | null;
}
export interface V1Process {
  serviceName: string;
  tags: V1KeyValue[];
}
export interface V1Trace {
  traceID: string;
  spans: V1Span[];
  processes: Record<string, V1Process>;
  warnings: string[] | null;
}

/** The parts of the OTLP-JSON `resourceSpans` returned by the v3 API that tests need. */
export interface V3ResourceSpans {
  resource?: { attributes?: { key: string; value: Record<string, unknown> }[] };
  scopeSpans: {
    scope?: { name?: string; version?: string };
    spans: { traceId: string; spanId: string; parentSpanId?: string; name: string }[];
  }[];
}

const IMAGE = 'jaegertracing/jaeger:2.20.0';
const READY_TIMEOUT_MS = 60_000;
const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');

/**
 * In order: JAEGER_URL, JAEGER_BIN, the release image through testcontainers when a Docker engine
 * answers, a binary on the PATH or in the cache `npm run jaeger:prepare` fills; else a one-line reason to skip, or an error when
 * JAEGER_REQUIRED=1 (CI, where a skip would hide that the tests did not run).
 */
/**
 * Starts a Jaeger for the enclosing describe block and stops it after; `set` gets the handle, or
 * why there is none (the tests then skip and say so).
 */
export function useJaeger(set: (jaeger: JaegerHandle | undefined, skip: string | undefined) => void): void {
  let handle: JaegerHandle | undefined;
  beforeAll(async () => {
    const got = await startJaeger();
    if ('skip' in got) console.log(`# Jaeger tests skipped: ${got.skip}`);
    else console.log(`# Jaeger: ${got.source}`);
    handle = 'skip' in got ? undefined : got;
    set(handle, 'skip' in got ? got.skip : undefined);
  }, 600_000);
  afterAll(async () => handle?.stop());
}

export async function startJaeger(): Promise<JaegerHandle | { skip: string }> {
  const url = process.env.JAEGER_URL;
  if (url) {
    const otlp = new URL(url);
    otlp.port = '4318';
    const grpc = new URL(url);
    grpc.port = '4317';
    return {
      queryUrl: url.replace(/\/+$/, ''),
      otlpEndpoint: (process.env.JAEGER_OTLP_ENDPOINT ?? otlp.origin).replace(/\/+$/, ''),
      otlpGrpcEndpoint: (process.env.JAEGER_OTLP_GRPC_ENDPOINT ?? grpc.origin).replace(/\/+$/, ''),
      source: `external Jaeger at ${url} (JAEGER_URL)`,
      stop: async () => {},
    };
  }

  const env = process.env.JAEGER_BIN;
  if (env) return startBinary(env, `${env} (JAEGER_BIN)`);
  const container = await startContainer();
  if ('handle' in container) return container.handle;
  const found = findBinary();
  if (found) return startBinary(found.path, found.source);

  const skip = `no Jaeger prepared (${container.why}): run \`npm run jaeger:prepare\` once (builds and caches one; needs Go), or set JAEGER_BIN or JAEGER_URL`;
  if (process.env.JAEGER_REQUIRED === '1') throw new Error(`JAEGER_REQUIRED=1 but ${skip}`);
  return { skip };
}

function findBinary(): { path: string; source: string } | undefined {
  const onPathBin = onPath('jaeger');
  if (onPathBin) return { path: onPathBin, source: `${onPathBin} (PATH)` };
  const cacheDir = join(repoRoot, '.cache/jaeger');
  if (!existsSync(cacheDir)) return undefined;
  for (const label of readdirSync(cacheDir).sort().reverse()) {
    const bin = join(cacheDir, label, 'jaeger');
    if (isExecutable(bin)) return { path: bin, source: `${bin} (cached build)` };
  }
  return undefined;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function freePorts(n: number): Promise<number[]> {
  // Hold all listeners open until every port is known so the n ports are distinct.
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((ok, fail) => {
      const s = createServer();
      s.once('error', fail);
      s.listen(0, '127.0.0.1', () => ok(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  return ports;
}

// Modelled on cmd/jaeger/internal/all-in-one.yaml, trimmed to OTLP (HTTP and gRPC) in, memory storage,
// query and health check, every listener on loopback so it cannot clash with a user's Jaeger.
// enable_tracing is off because query's self-tracing exports over OTLP gRPC to localhost:4317:
// into a user's Jaeger if one runs, else a 10 s flush timeout on shutdown.
function configYaml(otlp: number, otlpGrpc: number, query: number, health: number): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_query:
    storage:
      traces: some_storage
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:${query}
    grpc:
      endpoint: 127.0.0.1:0
  jaeger_storage:
    backends:
      some_storage:
        memory:
          max_traces: 100000
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${health}
    grpc:
      endpoint: 127.0.0.1:0
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlp}
      grpc:
        endpoint: 127.0.0.1:${otlpGrpc}
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: some_storage
`;
}

async function startBinary(bin: string, source: string): Promise<JaegerHandle> {
  const [otlp, otlpGrpc, query, health] = await freePorts(4) as [number, number, number, number];
  const dir = await mkdtemp(join(tmpdir(), 'rollout-otel-jaeger-'));
  const config = join(dir, 'config.yaml');
  await writeFile(config, configYaml(otlp, otlpGrpc, query, health));

  const child = spawn(bin, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
  child.on('error', (err) => (exited = `failed to start: ${err.message}`));

  const handle: JaegerHandle = {
    otlpEndpoint: `http://127.0.0.1:${otlp}`,
    otlpGrpcEndpoint: `http://127.0.0.1:${otlpGrpc}`,
    queryUrl: `http://127.0.0.1:${query}`,
    source,
    stop: async () => {
      await kill(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) break;
    if ((await ok(`http://127.0.0.1:${health}/status`)) && (await ok(`${handle.queryUrl}/`))) return handle;
    if (Date.now() > deadline) break;
    await sleep(200);
  }
  await handle.stop();
  throw new Error(`Jaeger ${bin} ${exited ?? `not ready after ${READY_TIMEOUT_MS / 1000}s`}; stderr:\n${stderr}`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

async function ok(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** The Jaeger image through testcontainers, when a Docker (or compatible) engine answers. */
async function startContainer(): Promise<{ handle: JaegerHandle } | { why: string }> {
  const tc = await import('testcontainers');
  try {
    await tc.getContainerRuntimeClient();
  } catch {
    return { why: 'no Docker engine for testcontainers, no binary' };
  }
  const container = await new tc.GenericContainer(IMAGE)
    .withExposedPorts(4317, 4318, 16686, 13133)
    .withWaitStrategy(tc.Wait.forAll([tc.Wait.forHttp('/status', 13133), tc.Wait.forHttp('/', 16686)]))
    .withStartupTimeout(180_000)
    .start();
  const host = container.getHost();
  return {
    handle: {
      otlpEndpoint: `http://${host}:${container.getMappedPort(4318)}`,
      otlpGrpcEndpoint: `http://${host}:${container.getMappedPort(4317)}`,
      queryUrl: `http://${host}:${container.getMappedPort(16686)}`,
      source: `container ${IMAGE} (testcontainers)`,
      stop: async () => void (await container.stop()),
    },
  };
}

/** `GET /api/traces/{id}` (v1 JSON, query adjusters applied); undefined when Jaeger has no such trace. */
export async function getTrace(queryUrl: string, traceId: string): Promise<V1Trace | undefined> {
  const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET /api/traces/${traceId}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { data?: V1Trace[] };
  return body.data?.[0];
}

/**
 * Search via API v3, which needs explicit time bounds; that also makes historical spans findable
 * (v1 search silently defaults to the last 2 days). Returns all matches merged, [] when none.
 */
export async function searchTraces(queryUrl: string, service: string, start: Date, end: Date): Promise<V3ResourceSpans[]> {
  // snake_case parameter names work in every Jaeger v2 release; camelCase only since v2.19.
  // num_traces (search depth) has no default in older releases: 0 gives a 500.
  const params = new URLSearchParams({
    'query.service_name': service,
    'query.start_time_min': start.toISOString(),
    'query.start_time_max': end.toISOString(),
    'query.num_traces': '100',
  });
  const res = await fetch(`${queryUrl}/api/v3/traces?${params}`);
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`GET /api/v3/traces?${params}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { result?: { resourceSpans?: V3ResourceSpans[] } };
  return body.result?.resourceSpans ?? [];
}

/** Polls until the trace has at least `expectedSpans` spans; Jaeger batches spans before storing them. */
export async function waitForTrace(queryUrl: string, traceId: string, expectedSpans: number, timeoutMs = 20_000): Promise<V1Trace> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const trace = await getTrace(queryUrl, traceId);
    if (trace && trace.spans.length >= expectedSpans) return trace;
    if (Date.now() > deadline) {
      throw new Error(`trace ${traceId} has ${trace?.spans.length ?? 0} of ${expectedSpans} spans after ${timeoutMs} ms`);
    }
    await sleep(200);
  }
}
