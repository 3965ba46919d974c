/** What a call failed with, for tests that assert on errors. */
import { isKerasInteropError } from '../../src/errors.js';

/**
 * The error `p` rejects with (or `p()` throws): its code when it is a KerasInteropError, and its message.
 * Nothing thrown fails the test.
 */
export async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<{ code?: string; message: string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return { code: isKerasInteropError(e) ? e.code : undefined, message: (e as Error).message };
  }
  throw new Error('expected an error');
}
