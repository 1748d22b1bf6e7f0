// Acceptance (run folders / docs issue): the API reference builds from the source with no warning
// about undocumented public exports. Runs TypeDoc with the project's typedoc.json, emitting nothing.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('API reference', () => {
  it('typedoc validates every public export as documented, with no warnings', () => {
    const r = spawnSync(process.execPath, ['node_modules/typedoc/bin/typedoc', '--emit', 'none'], { encoding: 'utf8', timeout: 240_000 });
    const out = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    const warnings = out.split('\n').filter((l) => /\[(warning|error)\]/.test(l));
    expect(warnings).toEqual([]);
    expect(r.status).toBe(0);
  }, 300_000);
});
