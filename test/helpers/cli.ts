/** The CLI run in-process, as the tests call it: its exit code and what it wrote to stdout and stderr. */
import { main } from '../../src/cli.js';

export interface CliRun {
  code: number;
  /** stdout's lines, joined by newlines. */
  out: string;
  /** stderr's lines, joined by newlines. */
  err: string;
}

/** `keras-interop <args>`. */
export async function runCli(...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** `keras-interop <args> --backend cpu`: tfjs's CPU backend, which gives the same numbers on every machine. */
export function runCliOnCpu(...args: string[]): Promise<CliRun> {
  return runCli(...args, '--backend', 'cpu');
}
