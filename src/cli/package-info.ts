/**
 * Name and version of the installed Cinder package (read from its package.json, found by walking up
 * from this file: works from `src/` under tsx and from `dist/src/` after the build).
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Name and version of the package. */
export interface PackageInfo {
  /** npm package name (`cinder-snn`). */
  name: string;
  /** Package version. */
  version: string;
  /** Folder holding the package.json. */
  root: string;
}

let cached: PackageInfo | null = null;

/** The package's name, version and root folder. */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cinder-snn') {
        cached = { name: pkg.name, version: pkg.version ?? '0.0.0', root: dir };
        return cached;
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  cached = { name: 'cinder-snn', version: 'unknown', root: process.cwd() };
  return cached;
}
