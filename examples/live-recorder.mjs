// A tiny "agent" that records its session with RolloutRecorder while exportLive sends the spans.
// Run it beside a collector (docker compose up), then open the trace id it prints in Jaeger:
//   node examples/live-recorder.mjs [rollout file]
import { exportLive, RolloutRecorder } from 'rollout-otel';

const file = process.argv[2] ?? `/tmp/rollout-otel-example-${Date.now()}.jsonl`;
const recorder = new RolloutRecorder(file, { agent: 'example-agent', model: 'gpt-5.1', provider: 'openai', version: '1.0.0' });
const exporter = exportLive(recorder, { onError: (err) => console.error('tracing:', err.message) });

recorder.turnStarted();
recorder.userMessage('List the files');
recorder.toolCall('call_1', 'shell', { cmd: 'ls' }, { usage: { input_tokens: 900, output_tokens: 12 } });
await new Promise((r) => setTimeout(r, 120)); // the tool runs
recorder.toolResult('call_1', 'README.md\nsrc', { exit_code: 0, duration_ms: 118 });
recorder.assistantMessage('There are two entries.', { usage: { input_tokens: 950, output_tokens: 9 } });
recorder.turnEnded(); // this turn's spans leave now, while the session goes on

recorder.close();
const report = await exporter.close();
console.log(`${file}: trace ${report.traceId}, ${report.delivered} spans delivered, ${report.notDelivered} not`);
