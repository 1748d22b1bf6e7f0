// The main entry `cinder-snn` is browser-safe: esbuild bundles src/index.ts for the browser
// platform. Cinder's own files must import no Node built-in (the spy below records them); the
// dependencies' Node-only branches are mapped away by their package.json "browser" fields, and
// esbuild's browser build fails on any built-in that is left.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Records every import of a Node built-in made by a file of src/ (and keeps it out of the bundle). */
function nodeBuiltinSpy(seen: string[]): Plugin {
  return {
    name: 'node-builtin-spy',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (builtins.has(args.path) && args.importer.startsWith(path.join(root, 'src'))) {
          seen.push(`${path.relative(root, args.importer)} imports ${args.path}`);
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
}

async function bundle(entry: string): Promise<{ seen: string[]; bytes: number; errors: number }> {
  const seen: string[] = [];
  const r = await build({
    write: false,
    entryPoints: [path.join(root, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    logLevel: 'silent',
    plugins: [nodeBuiltinSpy(seen)],
  }).catch((e: { errors?: unknown[] }) => ({ outputFiles: [], errors: e.errors ?? [e] }));
  return { seen, bytes: r.outputFiles.reduce((n, f) => n + f.contents.length, 0), errors: r.errors.length };
}

describe('browser bundle of the main entry', () => {
  it('bundles src/index.ts for the browser with no Node built-in', async () => {
    const r = await bundle('src/index.ts');
    expect(r.errors).toBe(0);
    expect(r.seen).toEqual([]);
    expect(r.bytes).toBeGreaterThan(100_000); // tfjs-core and Cinder are in it
  });

  it('would catch a Node built-in (the Node entry has them)', async () => {
    const r = await bundle('src/node.ts');
    expect(r.seen.length).toBeGreaterThan(0);
    expect(r.seen.some((s) => s.includes('node:fs'))).toBe(true);
  });
});
