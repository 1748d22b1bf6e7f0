import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
// The `eprop-evidence` example through an in-memory RunContext: tiny training preset and parity mode.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backendInfo } from '../../../src/core/backend.js';
import type { Params, RunContext } from '../../../src/cli/example.js';
import type { Figure } from '../../../src/viz/figure.js';
import example from '../../../examples/eprop-evidence/index.js';

const fixturePath = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'eprop-nest-b1-i5.json');

function context(mode: string, over: Params): { ctx: RunContext; summary: Record<string, unknown>; figures: Map<string, Figure> } {
  const params: Params = {};
  for (const o of example.options) params[o.name] = o.default;
  Object.assign(params, example.presets[mode], over);
  const summary: Record<string, unknown> = {};
  const figures = new Map<string, Figure>();
  const dir = mkdtempSync(joinPath(tmpdir(), 'cinder-eprop-ex-'));
  const ctx: RunContext = {
    outDir: dir, params, seed: 3, backend: backendInfo()!, quiet: true, signal: new AbortController().signal,
    log: () => {},
    progress: () => ({ tick: () => {}, done: () => {} }),
    checkpoint: async (s) => void Object.assign(summary, s),
    figure: async (name, f) => void figures.set(name, f),
    artifactJson: async () => {},
    artifactNpy: async () => {},
    artifactPath: (n) => joinPath(dir, n),
    resumed: false,
    checkpointDir: joinPath(dir, 'checkpoint'),
    keepResponsive: async () => {},
  };
  return { ctx, summary, figures };
}

describe('cinder eprop-evidence', () => {
  it('declares a tiny preset and valid defaults', () => {
    expect(example.name).toBe('eprop-evidence');
    expect(example.presets.tiny).toBeDefined();
    expect(example.presets[example.defaultMode]).toBeDefined();
    const byName = Object.fromEntries(example.options.map((o) => [o.name, o.default]));
    expect(byName).toMatchObject({ batchSize: 32, nLif: 50, nAlif: 50, learningRate: 5e-3, validateEvery: 10, stopError: 0.07, testBatches: 4, fixture: '' });
  });

  it('tiny preset: writes every figure and the documented summary keys', async () => {
    const { ctx, summary, figures } = context('tiny', {});
    const out = await example.run(ctx);
    for (const k of example.summaryKeys) expect(summary).toHaveProperty(k);
    expect(out.loss).toHaveLength(2);
    expect((out.loss as number[]).every((l) => l > 0 && l < 5)).toBe(true);
    expect([...figures.keys()].sort()).toEqual([...example.figures].sort());
    expect(figures.get('sequence-early')!.panels).toBe(7);
    expect(figures.get('weights')!.panels).toBe(6);
  });

  it('parity mode: run_summary "loss" holds the fixture run within 1e-4 of NEST', async () => {
    const { ctx, summary } = context('full', { fixture: fixturePath });
    await example.run(ctx);
    const loss = summary.loss as number[];
    const nest = summary.nest_loss as number[];
    expect(loss).toHaveLength(5);
    loss.forEach((l, i) => expect(Math.abs(l - nest[i]!) / nest[i]!).toBeLessThan(1e-4));
    expect(nest[0]).toBeCloseTo(0.741152550006, 11);
  });
});
