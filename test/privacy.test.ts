import assert from 'node:assert/strict';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, test } from 'vitest';
import { fixture, runCli, type CliResult } from './support/cli.js';
import { startReceiver, type ReceivedSpan } from './support/otlp-receiver.js';

// A planted-secret corpus: real rollouts of every input kind (Codex rollouts, generic logs, trace
// bundles) with secrets of many families written into every field of free text, at the start of a
// line and in the middle of one, bare, assigned to a name, and inside JSON. Exported, the decoded
// OTLP must hold no piece of any secret: by default no free text at all, with content on none of
// the secrets.

/** A deterministic generator (mulberry32), so a failure names the same secret on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(15);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const pick = (chars: string, n: number) => Array.from({ length: n }, () => chars[Math.floor(random() * chars.length)]).join('');
const alnum = (n: number) => pick(ALNUM, n);
const hex = (n: number) => pick('0123456789abcdef', n);
const b64 = (n: number) => pick(`${ALNUM}+/`, n);
const b64url = (n: number) => pick(`${ALNUM}_-`, n);

interface Secret {
  family: string;
  /** the secret as written */
  value: string;
  /** the part that must never leave (the random part: a prefix such as `sk-` is no secret) */
  core: string;
  /** a name it is usually given, for the named placements */
  name: string;
  /** found by its shape alone: may also be planted bare */
  shaped: boolean;
}

function secret(family: string, prefix: string, core: string, name: string, shaped = true, suffix = ''): Secret {
  return { family, value: `${prefix}${core}${suffix}`, core, name, shaped };
}

/** Every family the issue names, and some it does not. */
function corpus(): Secret[] {
  const jwt = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI${b64url(30)}.${b64url(43)}`;
  return [
    secret('openai', 'sk-proj-', alnum(48), 'OPENAI_API_KEY'),
    secret('anthropic', 'sk-ant-api03-', b64url(93), 'ANTHROPIC_API_KEY', true, 'AA'),
    secret('aws-access-key', 'AKIA', pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16), 'AWS_ACCESS_KEY_ID'),
    secret('aws-secret-key', '', b64(40), 'AWS_SECRET_ACCESS_KEY', false),
    secret('github', 'ghp_', alnum(36), 'GITHUB_TOKEN'),
    secret('github-fine-grained', 'github_pat_', `${alnum(22)}_${alnum(59)}`, 'GH_TOKEN'),
    secret('gitlab', 'glpat-', b64url(20), 'GITLAB_TOKEN'),
    secret('slack-bot', 'xoxb-', `${pick('0123456789', 12)}-${pick('0123456789', 12)}-${alnum(24)}`, 'SLACK_BOT_TOKEN'),
    secret('slack-webhook', 'https://hooks.slack.com/services/', `T${alnum(10).toUpperCase()}/B${alnum(10).toUpperCase()}/${alnum(24)}`, 'SLACK_WEBHOOK_URL'),
    secret('stripe-live', 'sk_live_', alnum(32), 'STRIPE_SECRET_KEY'),
    secret('stripe-webhook', 'whsec_', alnum(32), 'STRIPE_WEBHOOK_SECRET'),
    secret('huggingface', 'hf_', pick('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 34), 'HF_TOKEN'),
    secret('npm', 'npm_', alnum(36), 'NPM_TOKEN'),
    secret('sendgrid', 'SG.', `${b64url(22)}.${b64url(43)}`, 'SENDGRID_API_KEY'),
    secret('jwt', '', jwt.slice(37), 'ID_TOKEN'),
    secret('azure-account-key', '', `${b64(86)}==`, 'AccountKey', false),
    secret('gcp', 'AIza', b64url(35), 'GOOGLE_API_KEY'),
    secret('password', '', `${alnum(6)}!${alnum(5)}`, 'DB_PASSWORD', false),
    secret('named-secret', '', alnum(20), 'APP_SECRET', false),
    secret('named-token', '', alnum(18), 'API_TOKEN', false),
    secret('url-password', 'postgres://app:', `${alnum(14)}`, 'DATABASE_URL', true, '@db.internal:5432/app'),
    secret('bearer', 'Bearer ', b64url(40), 'Authorization'),
    // families the issue does not list
    secret('twilio', 'SK', hex(32), 'TWILIO_API_KEY'),
    secret('shopify', 'shpat_', hex(32), 'SHOPIFY_TOKEN'),
    secret('digitalocean', 'dop_v1_', hex(64), 'DO_TOKEN'),
    secret('linear', 'lin_api_', alnum(40), 'LINEAR_API_KEY'),
    secret('doppler', 'dp.pt.', alnum(43), 'DOPPLER_TOKEN'),
    secret('pypi', 'pypi-AgEIcHlwaS5vcmc', b64url(70), 'TWINE_PASSWORD'),
    secret('unknown-vendor', 'zz_live_', alnum(40), 'VENDOR_CREDENTIAL'),
    secret('private-key', '-----BEGIN RSA PRIVATE KEY-----\n', `MIIEpAIBAAKCAQEA${b64(60)}\n${b64(64)}\n${b64(64)}`, 'PRIVATE_KEY', true, '\n-----END RSA PRIVATE KEY-----'),
  ];
}

/** How a secret is written into a piece of free text. */
const PLACEMENTS: ((s: Secret) => string | undefined)[] = [
  (s) => (s.shaped ? `${s.value}\nthe rest of the line` : undefined),
  (s) => (s.shaped ? `the key ${s.value} is in use` : undefined),
  (s) => `export ${s.name}=${s.value}`,
  (s) => `${s.name.toLowerCase()}: "${s.value}"`,
  (s) => JSON.stringify({ [s.name.toLowerCase().includes('password') ? 'password' : s.name]: s.value }),
  (s) => `{"config": {"password": "${s.value}"}}`,
];

/** Free text in every input kind, by the keys that carry it. */
const FREE_TEXT = new Set(['message', 'text', 'output', 'arguments', 'cmd', 'command', 'thread_name', 'aggregated_output', 'stdout', 'stderr', 'content', 'error', 'last_agent_message', 'input', 'query', 'source_js', 'result', 'summary', 'reason', 'prompt', 'error_message']);
/** A phrase planted beside the secrets: free text, but no secret. By default it must not leave. */
const CANARY = 'quokka-lantern-canary';

class Planter {
  private n = 0;
  readonly planted = new Set<Secret>();
  constructor(private readonly secrets: Secret[]) {}

  next(): string {
    const i = this.n++;
    const s = this.secrets[i % this.secrets.length] as Secret;
    const placements = PLACEMENTS.map((p) => p(s)).filter((p): p is string => p !== undefined);
    this.planted.add(s);
    return placements[Math.floor(i / this.secrets.length) % placements.length] as string;
  }

  /** The same value with secrets at the start of the text, at a line start and mid-line. */
  text(original: string): string {
    return `${this.next()}\n${CANARY} ${original}\n${this.next()} trailing words ${this.next()}`;
  }

  /** A JSON value with every free-text string planted; JSON inside a string is planted as JSON. */
  value(v: unknown, key?: string): unknown {
    if (typeof v === 'string') {
      if (key === undefined || !FREE_TEXT.has(key)) return v;
      if (/^\s*[[{]/.test(v)) {
        try {
          return JSON.stringify(this.value(JSON.parse(v), key));
        } catch {
          // not JSON after all
        }
      }
      return this.text(v);
    }
    if (Array.isArray(v)) return v.map((x) => this.value(x, key));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.value(x, FREE_TEXT.has(k) ? k : key)]));
    return v;
  }

  jsonl(text: string): string {
    return text.split('\n').map((line) => {
      if (!line.trim()) return line;
      try {
        return JSON.stringify(this.value(JSON.parse(line)));
      } catch {
        return line;
      }
    }).join('\n');
  }
}

const CODEX = [
  'jazzyalex-agent-sessions__stage0-agents-codex-small.jsonl',
  'xeus-0.129.0-tui-websearch.jsonl',
  'privacy-x402-0.101.0-cli.jsonl',
  'localpush-sanitized-0.104-small.jsonl',
  'solsmile-0.142.5-vscode-abort-rollback.jsonl',
  'doctrine-skills__codex-0.156.1-subagent-parent-excerpt__rollout-2026-09-28T13-01-29-01a0e81b-2a8b-7240-b94c-ad2ada7813da.jsonl',
];
const GENERIC = ['generic/agent-run.jsonl', 'generic/untimed.jsonl'];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
}

/** Writes the planted corpus: one directory per input kind. */
function plantCorpus(): { dirs: Record<'codex' | 'generic' | 'bundles', string>; secrets: Secret[] } {
  const root = mkdtempSync(join(tmpdir(), 'rollout-otel-privacy-'));
  const secrets = corpus();
  const planter = new Planter(secrets);
  const dirs = { codex: join(root, 'codex'), generic: join(root, 'generic'), bundles: join(root, 'bundles') };
  for (const d of Object.values(dirs)) mkdirSync(d);
  for (const f of CODEX) writeFileSync(join(dirs.codex, f), planter.jsonl(readFileSync(fixture(f), 'utf8')));
  for (const f of GENERIC) writeFileSync(join(dirs.generic, f.split('/').pop() as string), planter.jsonl(readFileSync(fixture(f), 'utf8')));
  cpSync(fixture('bundles'), dirs.bundles, { recursive: true, filter: (src) => !src.endsWith('.mjs') && !src.endsWith('outside.json') });
  for (const file of walk(dirs.bundles)) {
    // a payload linked from outside its bundle is not the bundle's to change (nor ours)
    if (lstatSync(file).isSymbolicLink()) continue;
    if (file.endsWith('.jsonl')) writeFileSync(file, planter.jsonl(readFileSync(file, 'utf8')));
    else if (file.includes('/payloads/') && file.endsWith('.json')) {
      try {
        writeFileSync(file, JSON.stringify(planter.value(JSON.parse(readFileSync(file, 'utf8')))));
      } catch {
        // a payload that is not JSON stays as it is
      }
    }
  }
  assert.equal(planter.planted.size, secrets.length, 'every family was planted');
  return { dirs, secrets };
}

/** Everything a collector receives, as one text: names, attributes, events, links, statuses, resources. */
function everything(spans: ReceivedSpan[]): string {
  return spans.map((s) => JSON.stringify({ name: s.name, attributes: s.attributes, events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })), links: s.links, status: s.status, resource: s.resource })).join('\n');
}

/** Pieces of a secret's core that must not appear: any run of 10 of its characters. */
function leaks(all: string, secrets: Secret[]): string[] {
  // the collector may see text JSON-escaped or not: look in both
  const unescaped = all.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  const out: string[] = [];
  for (const s of secrets) {
    const core = s.core.replace(/\n/g, '');
    for (let i = 0; i + 10 <= core.length; i += 5) {
      const piece = core.slice(i, i + 10);
      if (all.includes(piece) || unescaped.includes(piece)) {
        out.push(`${s.family}: …${piece}…`);
        break;
      }
    }
  }
  return out;
}

async function exportAll(args: string[], paths: string[]): Promise<{ run: CliResult; spans: ReceivedSpan[] }> {
  const r = await startReceiver();
  try {
    const run = await runCli(['export', '--no-progress', ...args, ...paths], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
    return { run, spans: r.spans() };
  } finally {
    await r.close();
  }
}

describe('privacy: a planted-secret corpus through every input kind', () => {
  let planted: ReturnType<typeof plantCorpus>;
  beforeAll(() => {
    planted = plantCorpus();
  });

  for (const kind of ['codex', 'generic', 'bundles'] as const) {
    test(`${kind}: by default no free text leaves, and so no secret`, async () => {
      const { run, spans } = await exportAll([], [planted.dirs[kind]]);
      assert.ok(spans.length > 10, `${kind}: spans were exported (${run.stderr})`);
      assert.ok(run.code !== 1 && run.code !== 2, run.stderr);
      const all = everything(spans);
      const where = spans.flatMap((s) => [s.name, ...Object.entries(s.attributes).filter(([, v]) => String(v).includes(CANARY)).map(([k]) => `${s.name} ${k}`), ...s.events.flatMap((e) => Object.entries(e.attributes).filter(([, v]) => String(v).includes(CANARY)).map(([k]) => `${s.name} event ${e.name} ${k}`)), s.status.message.includes(CANARY) ? `${s.name} status` : '']).filter((x) => x.includes(CANARY) || / (event|status)| [a-z_]+\./.test(x));
      // the one fact taken from free text by default: the program a command ran (its first word, a name)
      const elsewhere = where.filter((w) => !/^execute_tool \S+ · \S+( process\.executable\.name)?$/.test(w));
      assert.deepEqual(elsewhere, [], `${kind}: free text left by default`);
      assert.ok(!all.replace(/"process\.executable\.name":"[^"]*"|"name":"execute_tool [^"]*"/g, '').includes(CANARY), `${kind}: free text left by default`);
      assert.deepEqual(leaks(all, planted.secrets), [], `${kind}: secrets left by default`);
      // failed spans still say what kind of failure, as a class
      for (const s of spans.filter((x) => x.status.code === 2)) assert.match(s.status.message, /^[\w.:/ ()-]{1,64}$/, `${s.name}: status ${s.status.message}`);
    });

    test(`${kind}: with --capture-content the free text leaves, and no secret with it`, async () => {
      const { run, spans } = await exportAll(['--capture-content'], [planted.dirs[kind]]);
      assert.ok(spans.length > 10, `${kind}: spans were exported (${run.stderr})`);
      const all = everything(spans);
      assert.ok(all.includes(CANARY), `${kind}: content was captured`);
      assert.deepEqual(leaks(all, planted.secrets), [], `${kind}: secrets left with content on`);
      const line = /rollout-otel: redacted ([\d,]+) values \(by rule: ([^)]*)\)/.exec(run.stderr);
      assert.ok(line, `${kind}: the summary counts redactions: ${run.stderr}`);
      assert.ok(Number(line[1]?.replace(/,/g, '')) > 50);
      for (const s of planted.secrets) assert.ok(!run.stderr.includes(s.core.slice(0, 10)), 'the report never prints a secret');
    });
  }

  test('every field of free text is captured only when asked for, one field at a time', async () => {
    const { spans } = await exportAll(['--capture', 'errors'], [planted.dirs.generic]);
    const all = everything(spans);
    assert.deepEqual(leaks(all, planted.secrets), []);
    assert.ok(spans.some((s) => s.status.code === 2 && s.status.message.includes(CANARY)), 'error messages captured');
    assert.ok(spans.every((s) => s.attributes['gen_ai.input.messages'] === undefined && s.attributes['gen_ai.tool.call.arguments'] === undefined && s.attributes['gen_ai.tool.call.result'] === undefined));

    const prompts = everything((await exportAll(['--capture', 'prompts'], [planted.dirs.generic])).spans);
    assert.ok(prompts.includes(CANARY));
    const got = (await exportAll(['--capture', 'prompts'], [planted.dirs.generic])).spans;
    for (const s of got) {
      assert.equal(s.attributes['gen_ai.output.messages'], undefined, 'no outputs');
      assert.equal(s.attributes['gen_ai.tool.call.arguments'], undefined, 'no tool arguments');
      assert.equal(s.attributes['gen_ai.tool.call.result'], undefined, 'no tool results');
      if (s.status.code === 2) assert.ok(!s.status.message.includes(CANARY), 'no error messages');
      const input = s.attributes['gen_ai.input.messages'];
      if (input !== undefined) for (const m of JSON.parse(String(input))) assert.equal(m.role, 'user');
    }

    const tools = (await exportAll(['--capture', 'tool-arguments,tool-results'], [planted.dirs.generic])).spans;
    assert.ok(tools.some((s) => String(s.attributes['gen_ai.tool.call.arguments'] ?? '').includes(CANARY)));
    assert.ok(tools.some((s) => String(s.attributes['gen_ai.tool.call.result'] ?? '').includes(CANARY)));
    // messages keep only their tool calls and results
    for (const s of tools) {
      for (const key of ['gen_ai.input.messages', 'gen_ai.output.messages']) {
        const m = s.attributes[key];
        if (m !== undefined) for (const { parts } of JSON.parse(String(m))) for (const p of parts) assert.match(p.type, /^tool_call(_response)?$/);
      }
    }
  });
});

describe('privacy: user rules and flags', () => {
  const session = (text: string) => [
    '{"type":"session_meta","seq":0,"timestamp":"2026-10-02T09:00:00.000Z","item":{"id":"run-1","agent":"bot","model":"gpt-5.1"}}',
    `{"type":"user_message","seq":1,"timestamp":"2026-10-02T09:00:01.000Z","item":{"text":${JSON.stringify(text)}}}`,
    '{"type":"tool_call","seq":2,"timestamp":"2026-10-02T09:00:02.000Z","item":{"call_id":"c1","name":"shell","arguments":{"cmd":"ls /home/alice-internal"}}}',
    '{"type":"tool_result","seq":3,"timestamp":"2026-10-02T09:00:03.000Z","item":{"call_id":"c1","output":"ok","exit_code":0}}',
  ].join('\n') + '\n';

  test('--redact-pattern and --redact-file add rules, counted by name; the secret never shows in the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-patterns-'));
    const file = join(dir, 'run.jsonl');
    writeFileSync(file, session('ticket ACME-4412-ZQ and employee id E-99812 and host db7.corp.example'));
    const rules = join(dir, 'rules.txt');
    writeFileSync(rules, '# internal identifiers\n\n(?i)e-\\d{5}\ndb\\d+\\.corp\\.example\n');
    const { run, spans } = await exportAll(['--capture-content', '--redact-pattern', 'ACME-\\d+-[A-Z]+', '--redact-pattern', 'alice-(internal)', '--redact-file', rules], [file]);
    assert.equal(run.code, 0, run.stderr);
    const all = everything(spans);
    for (const gone of ['ACME-4412-ZQ', 'E-99812', 'db7.corp.example', 'internal']) assert.ok(!all.includes(gone), `${gone} redacted`);
    assert.ok(all.includes('[REDACTED:pattern-1]') && all.includes('alice-[REDACTED:pattern-2]'), 'a capture group redacts only itself');
    // each value exported counts: the prompt is on its turn (messages and input.value), in its model
    // call's input, on the root (input.value) and in the trace title
    assert.match(run.stderr, /redacted 17 values \(by rule: pattern-1 5, pattern-3 5, pattern-4 5, pattern-2 2\)/);
    assert.ok(!run.stderr.includes('ACME-4412'));
  });

  test('user patterns apply to names and paths too, content on or off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-patterns-'));
    const file = join(dir, 'run.jsonl');
    writeFileSync(file, session('hello').replace('"agent":"bot"', '"agent":"bot","cwd":"/home/alice-internal/repo"'));
    const { run, spans } = await exportAll(['--redact-pattern', 'alice-internal'], [file]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!everything(spans).includes('alice-internal'));
    assert.match(run.stderr, /redacted \d+ values? \(by rule: pattern-1 \d+\)/);
  });

  test('bad rules and fields are usage errors that name the problem and export nothing', async () => {
    const r = await startReceiver();
    try {
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: r.url };
      const bad = await runCli(['export', '--redact-pattern', '([unclosed', fixture('generic/agent-run.jsonl')], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^rollout-otel: --redact-pattern: not a regular expression: "\(\[unclosed"/m);
      const empty = await runCli(['export', '--redact-pattern', 'x*', fixture('generic/agent-run.jsonl')], env);
      assert.equal(empty.code, 2);
      assert.match(empty.stderr, /pattern matches empty text/);
      const missing = await runCli(['export', '--redact-file', '/nonexistent/rules.txt', fixture('generic/agent-run.jsonl')], env);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--redact-file \/nonexistent\/rules\.txt: cannot be read \(no such file\); nothing was exported/);
      const field = await runCli(['export', '--capture', 'prompts,secrets', fixture('generic/agent-run.jsonl')], env);
      assert.equal(field.code, 2);
      assert.match(field.stderr, /--capture takes prompts, outputs, tool-arguments, tool-results, errors; got "secrets"/);
      assert.equal(r.spans().length, 0);
    } finally {
      await r.close();
    }
  });
});
