// npx tsx scripts/vocabulary-table.mts — prints the README's "Attribute vocabulary" table from src/otel/vocabulary.ts.
import { VOCABULARY } from '../src/otel/vocabulary.ts';

const lines = ['| key | on | meaning |', '| --- | --- | --- |'];
for (const t of VOCABULARY) lines.push(`| \`${t.key}\` | ${t.on.join(', ')} | ${t.meaning.replace(/\|/g, '\\|')} |`);
console.log(lines.join('\n'));
