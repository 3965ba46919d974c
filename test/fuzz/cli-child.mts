// Runs the CLI in a process of its own, for tests of inputs that once hung it (a synchronous loop
// cannot be timed out from inside the process that runs it).
import { main } from '../../src/cli.js';

process.exitCode = await main(process.argv.slice(2), { out: (s) => process.stdout.write(s + '\n'), err: () => {} });
