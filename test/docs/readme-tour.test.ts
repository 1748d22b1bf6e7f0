// The README's tour is real code: extract its first ```ts block, point the import at src/, give it
// input pixels, run it, and check what it claims (weights trained, clamped to [0, 1]).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('README tour', () => {
  it('runs as written and trains clamped weights', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /## A short tour\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeTruthy();
    const dir = path.resolve('test-output', 'readme-tour');
    mkdirSync(dir, { recursive: true });
    const code = block!
      .replace("from 'cinder-snn'", "from '../../src/index.js'")
      .replace('const spikes = encoder.stream(pixels);', 'const pixels = tf.tidy(() => tf.tensor2d(Array.from({ length: B * 784 }, (_, i) => ((i * 7919) % 784) / 783), [B, 784]));\nconst w0 = layer.connection.weight.clone();\nconst spikes = encoder.stream(pixels);');
    const check = `
const w = layer.connection.weight;
const changed = tf.sum(tf.abs(tf.sub(w, w0))).dataSync()[0];
console.log(JSON.stringify({ backend: info.name, changed, min: tf.min(w).dataSync()[0], max: tf.max(w).dataSync()[0] }));
`;
    writeFileSync(path.join(dir, 'tour.ts'), code + check);
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, 'tour.ts')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.changed).toBeGreaterThan(0);
    expect(out.min).toBeGreaterThanOrEqual(0);
    expect(out.max).toBeLessThanOrEqual(1);
  }, 150_000);
});
