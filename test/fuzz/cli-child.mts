// Runs the CLI in a process of its own, for tests of inputs that once hung it (a synchronous loop
// cannot be timed out from inside the process that runs it) or took too much memory: the last line on
// stderr is the process's peak resident memory in bytes.
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli.js';

process.on('exit', () => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  process.stderr.write(`${m ? Number(m[1]) * 1024 : 0}\n`);
});
process.exitCode = await main(process.argv.slice(2), { out: (s) => process.stdout.write(s + '\n'), err: () => {} });
