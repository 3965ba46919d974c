/**
 * `/`-separated paths as Node's `path.posix` handles them (normalize, join, resolve, basename, dirname),
 * for code that runs in a page too. One difference: `resolve` of relative paths stays relative (a page
 * has no working directory); of absolute paths it is Node's.
 */

export const sep = '/';

export function isAbsolute(p: string): boolean {
  return p.startsWith('/');
}

/** Resolves `.` and `..`, collapses repeated slashes, keeps a trailing slash (as Node does). */
export function normalize(p: string): string {
  if (p === '') return '.';
  const absolute = isAbsolute(p);
  const trailing = p.endsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(part);
  }
  let s = out.join('/');
  if (absolute) return '/' + s + (trailing && s ? '/' : '');
  if (s === '') s = '.';
  return trailing ? s + '/' : s;
}

export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== '').join('/');
  return joined === '' ? '.' : normalize(joined);
}

/** From the last absolute part on, normalized, without a trailing slash. */
export function resolve(...parts: string[]): string {
  let start = 0;
  for (let i = parts.length - 1; i >= 0; i--) {
    if (isAbsolute(parts[i])) {
      start = i;
      break;
    }
  }
  const n = normalize(parts.slice(start).filter((p) => p !== '').join('/') || '.');
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

export function basename(p: string, ext?: string): string {
  const trimmed = p.replace(/\/+$/, '');
  const base = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return ext && base.endsWith(ext) ? base.slice(0, -ext.length) : base;
}

/** Everything before the last slash that is not trailing (Node's algorithm, `//` included). */
export function dirname(p: string): string {
  if (p === '') return '.';
  const hasRoot = p.startsWith('/');
  let end = -1;
  let trailing = true;
  for (let i = p.length - 1; i >= 1; i--) {
    if (p[i] === '/') {
      if (!trailing) {
        end = i;
        break;
      }
    } else {
      trailing = false;
    }
  }
  if (end === -1) return hasRoot ? '/' : '.';
  if (hasRoot && end === 1) return '//';
  return p.slice(0, end);
}
