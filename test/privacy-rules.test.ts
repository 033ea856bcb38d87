// The redaction rules in-process: what the issue found leaking, and what must not be harmed.
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { classOf, Privacy } from '../src/otel/content.ts';
import { Redactor, RuleSet } from '../src/otel/redact.ts';
import { GITLEAKS_RULES } from '../src/otel/redact-gitleaks.ts';

const redactor = () => new Redactor(RuleSet.of());

describe('redaction rules', () => {
  test('every vendored gitleaks rule compiles and is in force', () => {
    assert.ok(GITLEAKS_RULES.length >= 200);
    for (const r of GITLEAKS_RULES) assert.doesNotThrow(() => new RegExp(r.source, `gd${r.flags}`), r.id);
    const r = redactor();
    assert.equal(r.text(`doppler dp.pt.${'aB3dE6gH9j'.repeat(4)}xYz`), 'doppler [REDACTED:doppler-api-token]');
  });

  test('names ending in _PASSWORD, _SECRET, _TOKEN, _KEY, and JSON fields so named, at a line start or mid-line', () => {
    const r = redactor();
    const text = 'DB_PASSWORD=hunter2hunter2\nAPP_SECRET=x9x9x9x9\n  API_TOKEN="abcd1234"; AccountKey=Zm9vYmFy;\n{"password": "correct horse"}';
    const out = r.text(text);
    for (const gone of ['hunter2hunter2', 'x9x9x9x9', 'abcd1234', 'Zm9vYmFy', 'correct horse']) assert.ok(!out.includes(gone), `${gone} in ${out}`);
    assert.match(out, /^DB_PASSWORD=\[REDACTED:secret-assignment\]$/m, 'the name stays, the value goes');
  });

  test('a secret at a line start of a chat message is found: values are redacted before they are JSON-encoded', () => {
    const privacy = new Privacy({ capture: true, limit: 10_000 });
    const key = `sk-proj-${'Ab3dEf6h'.repeat(6)}`;
    const json = privacy.messages([{ type: 'text', role: 'user', text: `first line\n${key}\nlast line` }], 'input') as string;
    assert.ok(!json.includes(key.slice(8, 30)), json);
    assert.equal(JSON.parse(json)[0].parts[0].content, 'first line\n[REDACTED:api-key-prefix]\nlast line');
  });

  test('JSON inside a string (tool arguments) is read as JSON, and fields named secret lose their value', () => {
    const r = redactor();
    const out = r.value({ arguments: '{"cmd":"export DB_PASSWORD=s3cr3tpass\\nls","env":{"GITHUB_TOKEN":"abcdef"}}', headers: { Authorization: 'Token abcdefgh' } }) as Record<string, unknown>;
    const args = JSON.parse(out.arguments as string);
    assert.equal(args.cmd, 'export DB_PASSWORD=[REDACTED:secret-assignment]\nls');
    assert.equal(args.env.GITHUB_TOKEN, '[REDACTED:secret-field]');
    assert.deepEqual(out.headers, { Authorization: '[REDACTED:secret-field]' });
  });

  test('ordinary text, paths, hashes, ids and counts are left alone', () => {
    const r = redactor();
    for (const keep of [
      'max_tokens: 4096, model gpt-5.4, reasoning effort high',
      'reading /Users/alex/projects/rollout-otel/src/otel/map.ts:42',
      'commit 0d7e77f1b2c3d4e5f60718293a4b5c6d7e8f9012 and uuid 019d7000-0000-7000-8000-000000000001',
      'https://github.com/openai/codex/tree/main/codex-rs/core/src',
      'password: string; token: undefined; DB_PASSWORD=${DB_PASSWORD}',
    ]) assert.equal(r.text(keep), keep);
    assert.deepEqual(r.counts, {});
  });

  test('names and paths are checked without the high-entropy rule, which would take a UUID file name for a key', () => {
    const r = redactor();
    const path = '/home/u/.codex/sessions/2026/01/01/rollout-2026-01-01T00-00-00-019d7000-0000-7000-8000-000000000001.jsonl';
    assert.equal(r.label(path), path);
    assert.equal(r.label('https://bob:ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/x/y'), 'https://[REDACTED:url-credentials]@github.com/x/y');
  });

  test('counts are by rule, once per value exported', () => {
    const r = redactor();
    r.text('AKIAIOSFODNN7EXAMPL2 and AKIAIOSFODNN7EXAMPL3');
    r.label('AKIAIOSFODNN7EXAMPL2 again');
    assert.deepEqual(r.counts, { 'aws-access-key': 3 });
  });

  test('classes stay words; a sentence is no class', () => {
    assert.equal(classOf('rate_limited'), 'rate_limited');
    assert.equal(classOf('429'), '429');
    assert.equal(classOf('the password is hunter2'), '_OTHER');
    const privacy = new Privacy({ capture: false, limit: 100 });
    assert.equal(privacy.status({ type: 'bad_request', message: 'token sk-proj-abc leaked' }), 'bad_request');
    assert.deepEqual(privacy.event({ 'exception.type': 'x y', 'exception.message': 'secret text' }), { 'exception.type': '_OTHER' });
  });
});
