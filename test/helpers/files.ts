// Test helper: every file under a folder, by relative path, with its bytes (base64), for
// byte-identity comparisons of run folders.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Relative path → base64 content of every file under `dir`. */
export function folderBytes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(join(d, f.name), `${rel}${f.name}/`);
      else out.set(`${rel}${f.name}`, readFileSync(join(d, f.name)).toString('base64'));
    }
  };
  walk(dir, '');
  return out;
}
