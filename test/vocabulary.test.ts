// Every attribute key the product writes is in otel/vocabulary.ts, and the README lists the same keys.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'vitest';
import { namespaceOf, VOCABULARY } from '../src/otel/vocabulary.ts';
import { DIALECTS } from '../src/formats/registry.ts';
import { fixture, ROOT, runCli } from './support/cli.ts';

// an agent other than Codex writes the codex.* keys under its own namespace
const forms = (key: string) => DIALECTS.map((d) => (key.startsWith('codex.') ? (namespaceOf(d.agent) ?? 'codex.') + key.slice('codex.'.length) : key));
const known = new Set(VOCABULARY.flatMap((t) => forms(t.key)));

test('every key in the exports of all fixtures is in the vocabulary table', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'vocab-')), 'spans.json');
  const r = await runCli(['export', '--quiet', '--no-progress', '--capture-content', '--out', out, fixture('')]);
  assert.match(r.stderr, /delivered [0-9,]+ spans/);
  const seen = new Set<string>();
  const keysOf = (attrs: { key: string }[] | undefined) => attrs?.forEach((a) => seen.add(a.key));
  for (const line of readFileSync(out, 'utf8').split('\n').filter(Boolean)) {
    for (const rs of JSON.parse(line).resourceSpans) {
      keysOf(rs.resource.attributes);
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          keysOf(s.attributes);
          for (const e of s.events ?? []) keysOf(e.attributes);
          for (const l of s.links ?? []) keysOf(l.attributes);
        }
      }
    }
  }
  assert.ok(seen.size > 50, `only ${seen.size} keys seen`);
  assert.deepEqual([...seen].filter((k) => !known.has(k)), []);
});

test("the README's attribute vocabulary lists exactly the keys of the table", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Attribute vocabulary'), readme.indexOf('\n## ', readme.indexOf('### Attribute vocabulary')));
  const listed = new Set([...section.matchAll(/^\| `([a-z_.]+)` \|/gm)].map((m) => m[1]));
  const table = new Set(VOCABULARY.map((t) => t.key));
  assert.deepEqual([...table].filter((k) => !listed.has(k)), [], 'in the table, not in the README');
  assert.deepEqual([...listed].filter((k) => !table.has(k as string)), [], 'in the README, not in the table');
});
