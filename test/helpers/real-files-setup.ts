/**
 * Vitest global setup: says once when the real-file tests cannot run (a plain clone has no
 * ../shared/wild), and makes that a failure under CI, which always has the folder.
 */
import { HAS_WILD, WILD } from './paths.js';

function isCI(): boolean {
  return /^(1|true|yes)$/i.test(process.env.CI ?? '');
}

export default function setup(): void {
  if (HAS_WILD) return;
  const where = `${WILD}/manifest.json is absent; set KERAS_INTEROP_WILD to the folder holding shared/wild`;
  if (isCI()) throw new Error(`CI=true but the real-file folder is missing: ${where}`);
  console.log(`real-file tests not run: ${where}`);
}
