#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// An export is a short run, and each of its threads compiles the hot code afresh: with V8's default
// inlining budget, TurboFan's compile time was about a fifth of an export's CPU on two cores. A
// smaller budget (V8's own note on it: "not too high, so compilation doesn't take too long") cuts
// that compile time by a quarter without slowing the compiled code here (`npm run bench`). Set
// before anything is compiled; it concerns this process only, never a program that imports the
// library.
setFlagsFromString('--max-inlined-bytecode-size-cumulative=150');

const { main } = await import('../dist/cli/main.js');
main(process.argv).then((code) => { process.exitCode = code; });
