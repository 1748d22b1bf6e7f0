// Building a module before any tfjs backend is set up (no `await initBackend()`) fails with a house
// error naming the fix, not tfjs's "No backend found in registry" blamed on whatever argument made
// the first tensor (a synapse factory: "invalid synapse: got a factory that threw …"). Runs in a fresh
// process: this suite's own set-up has a backend.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('no backend set up', () => {
  it('each module constructor refuses with "invalid tfjs backend", and works after initBackend()', () => {
    const dir = path.resolve('test-output', 'no-backend');
    mkdirSync(dir, { recursive: true });
    const src = path.resolve('src/index.js');
    const code = `
import { initBackend, LIF, LinearDense, DeltaCurrent, Network } from ${JSON.stringify(src)};
const lif = () => new LIF([3], 1, { restV: -65, resetV: -65, threshV: -52, refracT: 5, tauM: 20 });
const dense = () => new LinearDense([8], [4], 1, { synapse: DeltaCurrent.factory({ charge: 5 }) });
const out: string[] = [];
for (const f of [lif, dense, () => new Network()]) {
  try { f(); out.push('built'); } catch (e) { out.push(String(e)); }
}
await initBackend({ backend: 'cpu' });
const n = lif();
out.push(String(n.voltage.shape));
console.log(JSON.stringify(out));
`;
    writeFileSync(path.join(dir, 'main.ts'), code);
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, 'main.ts')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
    const msg = `CinderArgumentError: invalid tfjs backend: got "none registered", expected one set up before any module is built: await initBackend() (from 'cinder-snn')`;
    expect(out).toEqual([msg, msg, msg, '1,3']);
  });
});
