/**
 * `describe` and `it` for tests that read the real-file folder: registered when the folder is there,
 * not registered at all (neither run nor listed as skipped) when it is not. A run without the folder
 * reports that once (real-files-setup.ts); under CI its absence fails the run.
 */
import { describe, it } from 'vitest';
import { HAS_WILD } from './paths.js';

type Suite = (name: string, fn: () => void) => void;
type Test = (name: string, fn: () => unknown, timeout?: number) => void;

const notRegistered = () => undefined;

export const describeWild: Suite = HAS_WILD ? describe : notRegistered;
export const itWild: Test = HAS_WILD ? it : notRegistered;
