// Preloaded into a CLI child (NODE_OPTIONS=--require …): writes the process's peak RSS in KB to $RSS_OUT at exit.
process.on('exit', () => {
  if (process.env.RSS_OUT) require('node:fs').writeFileSync(process.env.RSS_OUT, String(process.resourceUsage().maxRSS));
});
