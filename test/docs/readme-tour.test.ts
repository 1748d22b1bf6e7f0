// The README's tour is real code: extract its first ```ts block, point the import at src/, run it
// unchanged (it defines its own pixels), and check what it claims: weights trained, clamped to
// [0, 1], and no tensor leaked once the model is disposed as the README says.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('README tour', () => {
  it('runs as written, trains clamped weights and leaks no tensors', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /## A short tour\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeTruthy();
    expect(block).toMatch(/const pixels = /);
    expect(block).toMatch(/spikes\.dispose\(\)/);
    const dir = path.resolve('test-output', 'readme-tour');
    mkdirSync(dir, { recursive: true });
    const marker = 'const info = await initBackend();';
    expect(block).toContain(marker);
    const code = block!
      .replace("from 'cinder-snn'", "from '../../src/index.js'")
      .replace(marker, `${marker}\nconst start = tf.memory().numTensors;\nlet w0: ReturnType<typeof tf.clone> | undefined;`)
      .replace('const spikes = encoder.stream(pixels);', 'w0 = layer.connection.weight.clone();\nconst spikes = encoder.stream(pixels);');
    // What the README says to do when done, then the count of live tensors.
    const check = `
const w = layer.connection.weight;
const [changed, min, max] = tf.tidy(() => [tf.sum(tf.abs(tf.sub(w, w0!))).dataSync()[0], tf.min(w).dataSync()[0], tf.max(w).dataSync()[0]]);
w0!.dispose();
const beforeDispose = tf.memory().numTensors;
layer.dispose();
stdp.dispose();
clamp.dispose();
console.log(JSON.stringify({ backend: info.name, changed, min, max, start, beforeDispose, end: tf.memory().numTensors }));
`;
    writeFileSync(path.join(dir, 'tour.ts'), code + check);
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, 'tour.ts')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.changed).toBeGreaterThan(0);
    expect(out.min).toBeGreaterThanOrEqual(0);
    expect(out.max).toBeLessThanOrEqual(1);
    expect(out.end).toBe(out.start); // the tour leaked nothing (it used to leak the 250-step spike train)
  }, 150_000);
});
