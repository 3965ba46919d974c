/**
 * Without the real-file folder, a test file whose every test reads it registers nothing, which vitest
 * counts as a failure ("No test suite found"); such files are left out of that run by name
 * (WILD_ONLY_TEST_FILES). This keeps the list complete as test files come and go.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, WILD_ONLY_TEST_FILES } from './helpers/paths.js';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? testFiles(join(dir, d.name)) : d.name.endsWith('.test.ts') ? [join(dir, d.name)] : [],
  );
}

/** Registers its top-level suites and tests (those at the start of a line) only through describeWild / itWild. */
function onlyRealFileTests(source: string): boolean {
  const plain = /^(describe|it|test)(\.\w+)*\(/m.test(source);
  return !plain && /^(describeWild|itWild)\(/m.test(source);
}

describe('real-file test files', () => {
  it('the files left out without the real-file folder are exactly those that test nothing else', () => {
    const files = testFiles(join(ROOT, 'test')).map((f) => relative(ROOT, f).split('\\').join('/'));
    const wildOnly = files.filter((f) => onlyRealFileTests(readFileSync(join(ROOT, f), 'utf8')));
    expect([...WILD_ONLY_TEST_FILES].sort()).toEqual(wildOnly.sort());
  });
});
