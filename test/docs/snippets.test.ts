// Every ```ts block of README.md and docs/*.md is code a new user copies: each is type-checked
// against src/ with the project's compiler options (imports of 'cinder-snn' and 'cinder-snn/node'
// pointed at src/index.ts and src/node.ts, inside the hidden `<!-- snippet: context … -->` it is
// marked with, if any), and the blocks that run in a few seconds are run and checked against the
// numbers their prose claims. The README's tour is run by readme-tour.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { codeBlocks, snippetModule, tsBlocks, type CodeBlock } from './markdown.js';

const OUT = path.resolve('test-output', 'docs-snippets');

function fileName(b: CodeBlock): string {
  return `${b.file.replace(/[/.]/g, '_')}-L${b.line}.ts`;
}

/**
 * Type-checks the given modules (path → text) with tsconfig.json's options, less `noUnusedLocals` (a
 * snippet may declare a value only to show it); returns the diagnostics as text.
 */
function typeCheck(files: Record<string, string>): string[] {
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
  }
  const cfg = ts.getParsedCommandLineOfConfigFile('tsconfig.json', {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  const program = ts.createProgram(Object.keys(files), { ...cfg.options, noUnusedLocals: false, noEmit: true, declaration: false, declarationMap: false, sourceMap: false });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${path.relative(process.cwd(), d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

/** Runs a TypeScript file with node and the tsx loader; returns the JSON object of its last stdout line. */
function runTs(file: string, code: string): Record<string, unknown> {
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).not.toMatch(/Error/);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** The one ```ts block of `file` that contains `text`. */
function blockWith(file: string, text: string): CodeBlock {
  const found = codeBlocks(file).filter((b) => b.lang === 'ts' && b.code.includes(text));
  expect(found.map((b) => `${b.file}:${b.line}`)).toHaveLength(1);
  return found[0]!;
}

describe('docs ts snippets', () => {
  const blocks = tsBlocks();

  it('finds the blocks, and marks fragments explicitly and rarely', () => {
    // README's tour, concepts (3), custom-trainer (3), examples (2), figures (1) at the time of writing
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    const fragments = blocks.filter((b) => b.fragment).map((b) => `${b.file}:${b.line}`);
    expect(fragments.length).toBeLessThanOrEqual(2);
  });

  it('type-check against src/ (fragments excepted), and a wrong name would be caught', () => {
    rmSync(OUT, { recursive: true, force: true });
    const files: Record<string, string> = {};
    for (const b of blocks.filter((x) => !x.fragment)) {
      // a block that imports an example's way ('../../src/…') is placed as examples/<name>/index.ts would be
      const dir = /['"]\.\.\/\.\.\/src\//.test(b.code) ? path.join(OUT, 'examples', 'snippet') : OUT;
      files[path.join(dir, fileName(b))] = snippetModule(b, dir);
    }
    // the check itself: a block naming an export that does not exist fails
    const probe: CodeBlock = { file: 'probe.md', line: 1, lang: 'ts', code: "import { NoSuchExport } from 'cinder-snn';\nNoSuchExport();", fragment: false };
    const probeFile = path.join(OUT, 'probe.ts');
    files[probeFile] = snippetModule(probe, OUT);
    const diagnostics = typeCheck(files);
    const probeErrors = diagnostics.filter((d) => d.includes('probe.ts'));
    expect(probeErrors.join('\n')).toMatch(/NoSuchExport/);
    expect(diagnostics.filter((d) => !d.includes('probe.ts'))).toEqual([]);
  }, 120_000);

  it('concepts.md FiniteChecker: a NaN written to the weight at step 812 is reported as the prose says', () => {
    const b = blockWith('docs/concepts.md', 'new FiniteChecker(');
    // the error the block's last comment promises, e.g. "NonFiniteError: non-finite value (NaN or Inf) in layer.connection.weight at step 812"
    const claim = /\/\/ (NonFiniteError): (non-finite value \(NaN or Inf\) in (\S+) at step (\d+))/.exec(b.code);
    expect(claim).toBeTruthy();
    const [, errName, message, tensor, stepText] = claim!;
    expect(tensor).toBe('layer.connection.weight');
    const faultStep = Number(stepText);
    const steps = faultStep + 50;
    mkdirSync(OUT, { recursive: true });
    const src = path.relative(OUT, path.resolve('src/index.js')).split(path.sep).join('/');
    // set-up the block assumes: a small dense LIF layer, STDP, `steps` input tensors; the trainer
    // used in the block is STDP plus, after STDP's step at `faultStep`, a NaN written into one weight
    const setup = `
import { FiniteChecker, initBackend, tf, Rng, LIF, LinearDense, DeltaCurrent, Serial, uniformInit, STDP } from '${src}';
await initBackend();
const rng = new Rng(3);
const layer = new Serial(
  new LinearDense([8], [4], 1.0, { synapse: DeltaCurrent.factory({ charge: 5 }), batchSize: 2, weightInit: uniformInit(rng, 0, 0.3) }),
  new LIF([4], 1.0, { restV: -65, resetV: -65, threshV: -52, refracT: 2, tauM: 20, batchSize: 2 }),
);
const rule = new STDP({ lrPost: 5e-4, lrPre: -5e-6, tauPost: 20, tauPre: 20 });
rule.register(layer.cell(layer.connection, layer.neuron));
const steps = ${steps};
const x = Array.from({ length: steps }, () => tf.tensor2d(rng.uniformArray(16).map((u) => (u < 0.3 ? 1 : 0)), [2, 8]));
let calls = 0;
const stdp = {
  step(): void {
    rule.step();
    if (calls++ === ${faultStep}) {
      const w = layer.connection.weight;
      layer.connection.weightParameter.variable.assign(tf.where(tf.cast(tf.reshape(tf.oneHot(tf.tensor1d([5], 'int32'), w.size), w.shape), 'bool'), tf.fill(w.shape, NaN), w)); // functional ops: chained ones (t.reshape) exist only where a loaded package registered them
    }
  },
};
let caught: unknown = null;
try {
`;
    const report = `
} catch (e) { caught = e; }
const e = caught as Error | null;
console.log(JSON.stringify({ name: e?.name ?? null, message: e?.message ?? null, calls }));
`;
    const body = snippetModule({ ...b, context: undefined }, OUT).replace('export {};', '');
    const out = runTs(path.join(OUT, 'run-finite.ts'), setup + body + report);
    // one comparison, so that a failure shows what was thrown as well as when
    expect({ name: out.name, message: out.message, calls: out.calls }).toEqual({ name: errName, message, calls: steps });
  }, 150_000);

  it('figures.md recordings: record k of an every-step recorder is drawn at (k + 1)·dt, with the recorded values', () => {
    const b = blockWith('docs/figures.md', 'rasterFromRecordings(');
    expect(b.code).toContain('// … run …');
    mkdirSync(OUT, { recursive: true });
    const src = path.relative(OUT, path.resolve('src/index.js')).split(path.sep).join('/');
    const setup = `
import { initBackend, tf, Rng, LIF, LinearDense, DeltaCurrent, Serial, uniformInit } from '${src}';
await initBackend();
const rng = new Rng(5);
const layer = new Serial(
  new LinearDense([10], [3], 0.5, { synapse: DeltaCurrent.factory({ charge: 5 }), batchSize: 1, weightInit: uniformInit(rng, 0, 1.5) }),
  new LIF([3], 0.5, { restV: -65, resetV: -65, threshV: -50, refracT: 1, tauM: 10, batchSize: 1 }),
);
const lif = layer.neuron;
const steps = 60, dt = 0.5;
const seenSpikes: number[][] = [], seenVolts: number[][] = [];
`;
    // what "run" means here: steps of random input; the test keeps its own copy of spikes and voltages
    const run = `
for (let t = 0; t < steps; t++) {
  tf.tidy(() => { layer.forward(tf.tensor2d(rng.uniformArray(10).map((u) => (u < 0.5 ? 1 : 0)), [1, 10])); });
  seenSpikes.push(Array.from(lif.spike.dataSync())); seenVolts.push(Array.from(lif.voltage.dataSync()));
}
`;
    const report = `
const r = raster.data as { x: number[] | Float64Array; y: number[] | Int32Array }[];
const v = voltage.data as { x: number[] | Float64Array; y: number[] | Float64Array; name?: string }[];
console.log(JSON.stringify({
  dt, steps, seenSpikes, seenVolts,
  raster: r.map((d) => ({ x: Array.from(d.x), y: Array.from(d.y) })),
  voltage: v.map((d) => ({ x: Array.from(d.x), y: Array.from(d.y), name: d.name })),
}));
`;
    // the block's own imports stay (pointed at src/); the set-up imports other names
    const body = snippetModule({ ...b, context: undefined }, OUT).replace('// … run …', run);
    const out = runTs(path.join(OUT, 'run-figures.ts'), setup + body + report) as {
      dt: number; steps: number; seenSpikes: number[][]; seenVolts: number[][];
      raster: { x: number[]; y: number[] }[]; voltage: { x: number[]; y: number[]; name?: string }[];
    };
    const times = Array.from({ length: out.steps }, (_, k) => (k + 1) * out.dt);
    // voltage panel: neurons 0 and 1 over every record, then the threshold line
    const lines = out.voltage.filter((d) => d.x.length === out.steps);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const [i, n] of [0, 1].entries()) {
      expect(lines[i]!.x).toEqual(times);
      expect(lines[i]!.y).toEqual(out.seenVolts.map((row) => row[n]));
    }
    // raster: one dot per recorded spike at (k + 1)·dt
    const expected: [number, number][] = [];
    out.seenSpikes.forEach((row, k) => row.forEach((s, n) => s !== 0 && expected.push([times[k]!, n])));
    expect(expected.length).toBeGreaterThan(0);
    const dots = out.raster.flatMap((d) => d.x.map((x, i): [number, number] => [x, d.y[i]!]));
    const key = (p: [number, number]) => `${p[0]}:${p[1]}`;
    expect(dots.map(key).sort()).toEqual(expected.map(key).sort());
  }, 150_000);

  it('custom-trainer.md step(): the op-path rule as written gives the same weights as STDP (fused path) within float32 tolerance', () => {
    const b = blockWith('docs/custom-trainer.md', 'splitBySign(dpost, dpre');
    expect(b.context).toContain('class PairRule extends PairTraceTrainer<STDPHyper>');
    mkdirSync(OUT, { recursive: true });
    const src = path.relative(OUT, path.resolve('src/index.js')).split(path.sep).join('/');
    // the block inside its context (the class around the method), then two identical layers:
    // one trained by STDP, one by the doc's rule, on the same spikes
    const harness = `
import { initBackend, Rng, LIF, LinearDense, DeltaCurrent, Serial, uniformInit, STDP as LibrarySTDP } from '${src}';
await initBackend();
const make = () => {
  const rng = new Rng(11);
  return new Serial(
    new LinearDense([12], [5], 1.0, { synapse: DeltaCurrent.factory({ charge: 6 }), batchSize: 3, weightInit: uniformInit(rng, 0, 1) }),
    new LIF([5], 1.0, { restV: -65, resetV: -65, threshV: -55, refracT: 2, tauM: 10, batchSize: 3 }),
  );
};
const hyper = { lrPost: 5e-3, lrPre: -4e-3, tauPost: 15, tauPre: 20 };
const a = make(), b = make();
const lib = new LibrarySTDP(hyper);
lib.register(a.cell(a.connection, a.neuron));
const doc = new PairRule({ ...hyper, traceMode: 'cumulative', batchReduction: 'mean', delayed: false });
doc.register(b.cell(b.connection, b.neuron));
const w0 = Array.from(a.connection.weight.dataSync());
const inRng = new Rng(12);
let spikes = 0;
for (let t = 0; t < 300; t++) {
  const x = tf.tensor2d(inRng.uniformArray(36).map((u) => (u < 0.25 ? 1 : 0)), [3, 12]);
  tf.tidy(() => {
    spikes += tf.sum(a.forward(x)).dataSync()[0]!; lib.step(); a.connection.update();
    b.forward(x); doc.step(); b.connection.update();
  });
  x.dispose();
}
console.log(JSON.stringify({ w0, wa: Array.from(a.connection.weight.dataSync()), wb: Array.from(b.connection.weight.dataSync()), spikes }));
`;
    const code = snippetModule(b, OUT) + harness;
    const out = runTs(path.join(OUT, 'run-custom-rule.ts'), code) as { w0: number[]; wa: number[]; wb: number[]; spikes: number };
    expect(out.spikes).toBeGreaterThan(20);
    const changed = Math.max(...out.wa.map((w, i) => Math.abs(w - out.w0[i]!)));
    expect(changed).toBeGreaterThan(1e-3);
    const diff = Math.max(...out.wa.map((w, i) => Math.abs(w - out.wb[i]!)));
    expect(diff).toBeLessThan(1e-5 * Math.max(1, ...out.wa.map(Math.abs)));
  }, 150_000);

  it('concepts.md Network: the block runs as written, and the network loaded from its save continues bit-identically', () => {
    const b = blockWith('docs/concepts.md', 'const net = new Network();');
    expect(b.code).toContain("await net.save('ckpt'");
    const dir = path.join(OUT, 'network');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const src = path.relative(dir, path.resolve('src/index.js')).split(path.sep).join('/');
    // the parts the block assumes, built by one function (the block's buildSameNetwork() builds
    // them again and adds them under the same names, as a user's code would)
    const setup = `
import { initBackend, tf, Rng, LIF, LinearDense, SingleExponentialCurrent, Serial, uniformInit, STDP, MSTDPET, Adam, MaxRateClassifier, Recorder } from '${src}';
await initBackend();
const B = 2;
function parts(seed: number) {
  const init = new Rng(seed);
  const hiddenLayer = new Serial(
    new LinearDense([12], [5], 1, { synapse: SingleExponentialCurrent.factory({ charge: 40, tau: 5 }), batchSize: B, weightInit: uniformInit(init, 0, 1) }),
    new LIF([5], 1, { restV: -65, resetV: -65, threshV: -55, refracT: 2, tauM: 10, batchSize: B }),
  );
  const outLayer = new Serial(
    new LinearDense([5], [3], 1, { synapse: SingleExponentialCurrent.factory({ charge: 60, tau: 4 }), batchSize: B, weightInit: uniformInit(init, 0, 1) }),
    new LIF([3], 1, { restV: -65, resetV: -65, threshV: -58, refracT: 2, tauM: 10, batchSize: B }),
  );
  const stdp = new STDP({ lrPost: 0.01, lrPre: -0.001, tauPre: 20, tauPost: 20 });
  stdp.register(hiddenLayer.cell(hiddenLayer.connection, hiddenLayer.neuron));
  const mstdpet = new MSTDPET({ lrPost: 0.02, lrPre: -0.02, tauPre: 15, tauPost: 15, tauEligibility: 25 });
  mstdpet.register(outLayer.cell(outLayer.connection, outLayer.neuron));
  const adam = new Adam({ learningRate: 1e-3 });
  const inputRng = new Rng('input');
  const classifier = new MaxRateClassifier([3], 2);
  const recorder = new Recorder(() => outLayer.neuron.voltage, { capacity: 16 });
  outLayer.attach(recorder);
  return { hiddenLayer, outLayer, stdp, mstdpet, adam, inputRng, classifier, recorder };
}
const { hiddenLayer, outLayer, stdp, mstdpet, adam, inputRng, classifier, recorder } = parts(1);
function buildSameNetwork(): Network {
  const p = parts(2); // other initial weights: everything must come from the save
  const n = new Network();
  n.addLayer('hidden', p.hiddenLayer);
  n.addLayer('out', p.outLayer);
  n.addTrainer('stdp', p.stdp);
  n.addTrainer('mstdpet', p.mstdpet, (t, info) => t.step(info.reward!));
  n.addOptimizer('adam', p.adam);
  n.addRng('input', p.inputRng);
  n.add('classifier', p.classifier);
  n.addMonitor('v', p.recorder);
  return n;
}
const x = tf.tensor2d(Array.from({ length: B * 12 }, (_, i) => (i % 5 === 0 ? 1 : 0)), [B, 12]);
const signal = new AbortController().signal;
`;
    const check = `
// both in training mode again (the mode is the caller's), then the same steps: bit for bit
net.train(true);
network.train(true);
const bits = (t: tf.Tensor) => Array.from(new Uint32Array(new Float32Array(t.dataSync()).buffer));
let same = true, spikes = 0;
for (let t = 0; t < 40; t++) {
  const xt = tf.tensor2d(Array.from({ length: B * 12 }, () => (inputRng.uniform() < 0.6 ? 1 : 0)), [B, 12]);
  const ya = net.step(xt, { reward: t % 2 ? 1 : -1 });
  const yb = network.step(xt, { reward: t % 2 ? 1 : -1 });
  spikes += tf.sum(ya).dataSync()[0]! + tf.sum(hiddenLayer.neuron.spike).dataSync()[0]!;
  const hb = network.layers.get('hidden') as Serial, ob = network.layers.get('out') as Serial;
  for (const [p, q] of [[ya, yb], [hiddenLayer.connection.weight, hb.connection.weight], [outLayer.connection.weight, ob.connection.weight], [outLayer.neuron.voltage, ob.neuron.voltage]]) {
    if (JSON.stringify(bits(p)) !== JSON.stringify(bits(q))) same = false;
  }
  tf.dispose([xt, ya, yb]);
}
console.log(JSON.stringify({ same, spikes, steps: net.steps, metadata }));
`;
    const code = setup + snippetModule({ ...b, context: undefined }, dir).replace('export {};', '') + check;
    writeFileSync(path.join(dir, 'run-network.ts'), code);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'run-network.ts'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { same: boolean; spikes: number; steps: number; metadata: unknown };
    expect(out.metadata).toEqual({ epoch: 3 });
    expect(out.spikes).toBeGreaterThan(0);
    expect(out.same).toBe(true);
  }, 150_000);

  it('concepts.md one training step: the three phases, looped, give pair STDP with traces that include the step\'s spikes (float64 reference)', () => {
    const b = blockWith('docs/concepts.md', 'const x = stream.next();');
    mkdirSync(OUT, { recursive: true });
    const src = path.relative(OUT, path.resolve('src/index.js')).split(path.sep).join('/');
    const T = 120, Bn = 3, NIN = 10, NOUT = 4;
    const hyper = { lrPost: 4e-3, lrPre: -3e-3, tauPost: 12, tauPre: 18 };
    const setup = `
import { initBackend, tf, Rng, LIF, LinearDense, DeltaCurrent, Serial, uniformInit, STDP, SpikeStream } from '${src}';
await initBackend();
const rng = new Rng(21);
const layer = new Serial(
  new LinearDense([${NIN}], [${NOUT}], 1.0, { synapse: DeltaCurrent.factory({ charge: 6 }), batchSize: ${Bn}, weightInit: uniformInit(rng, 0, 1) }),
  new LIF([${NOUT}], 1.0, { restV: -65, resetV: -65, threshV: -55, refracT: 2, tauM: 10, batchSize: ${Bn} }),
);
const trainer = new STDP(${JSON.stringify(hyper)});
trainer.register(layer.cell(layer.connection, layer.neuron));
const connection = layer.connection;
const w0 = Array.from(connection.weight.dataSync());
const stream = SpikeStream.fromTensor(tf.tensor3d(rng.uniformArray(${T * Bn * NIN}).map((u) => (u < 0.3 ? 1 : 0)), [${T}, ${Bn}, ${NIN}]), true);
const pre: number[][] = [], post: number[][] = [];
for (let t = 0; t < ${T}; t++) {
`;
    const after = `
  pre.push(Array.from(x.dataSync())); post.push(Array.from(layer.neuron.spike.dataSync()));
}
console.log(JSON.stringify({ w0, w: Array.from(connection.weight.dataSync()), pre, post }));
`;
    const code = setup + snippetModule({ ...b, context: undefined }, OUT).replace('export {};', '') + after;
    const out = runTs(path.join(OUT, 'run-step.ts'), code) as { w0: number[]; w: number[]; pre: number[][]; post: number[][] };
    // float64 reference: x_pre ← x_pre·e^(−dt/τpre) + |lrPost|·s_pre, x_post likewise, then
    // W[o,i] += lrPost·mean_b(s_post[b,o]·x_pre[b,i]) + lrPre·mean_b(x_post[b,o]·s_pre[b,i])
    const W = out.w0.slice();
    const xPre = new Float64Array(Bn * NIN), xPost = new Float64Array(Bn * NOUT);
    let spikes = 0;
    for (let t = 0; t < T; t++) {
      const sp = out.pre[t]!, so = out.post[t]!;
      for (let k = 0; k < xPre.length; k++) xPre[k] = xPre[k]! * Math.exp(-1 / hyper.tauPre) + Math.abs(hyper.lrPost) * sp[k]!;
      for (let k = 0; k < xPost.length; k++) xPost[k] = xPost[k]! * Math.exp(-1 / hyper.tauPost) + Math.abs(hyper.lrPre) * so[k]!;
      for (let o = 0; o < NOUT; o++) {
        for (let i = 0; i < NIN; i++) {
          let d = 0;
          for (let bb = 0; bb < Bn; bb++) d += Math.sign(hyper.lrPost) * so[bb * NOUT + o]! * xPre[bb * NIN + i]! + Math.sign(hyper.lrPre) * xPost[bb * NOUT + o]! * sp[bb * NIN + i]!;
          W[o * NIN + i] = W[o * NIN + i]! + d / Bn;
        }
      }
      spikes += so.reduce((a, v) => a + v, 0);
    }
    expect(spikes).toBeGreaterThan(10);
    const moved = Math.max(...out.w.map((w, k) => Math.abs(w - out.w0[k]!)));
    expect(moved).toBeGreaterThan(1e-2);
    for (let k = 0; k < W.length; k++) expect(Math.abs(out.w[k]! - W[k]!)).toBeLessThan(1e-5);
  }, 150_000);

  it('examples.md "Writing an example": the spec as written passes the command\'s checks and its tiny run writes the summary keys it declares', () => {
    const b = blockWith('docs/examples.md', 'export const myExample: ExampleSpec');
    const dir = path.join(OUT, 'examples', 'my-example');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'index.ts'), snippetModule(b, dir));
    const runDir = path.join(dir, 'run');
    const cli = path.relative(dir, path.resolve('src/cli/program.js')).split(path.sep).join('/');
    const out = runTs(path.join(dir, 'run-cli.ts'), `
import { readFileSync } from 'node:fs';
import { myExample } from './index.js';
import { runCli } from '${cli}';
let text = '';
const sink = { write: (s: string) => ((text += s), true) };
const code = await runCli(['my-example', '--mode', 'tiny', '--out', ${JSON.stringify(runDir)}], { examples: [myExample], out: sink, err: sink, handleSignals: false, isTTY: false });
const summary = JSON.parse(readFileSync(${JSON.stringify(path.join(runDir, 'run_summary.json'))}, 'utf8'));
const params = JSON.parse(readFileSync(${JSON.stringify(path.join(runDir, 'params.json'))}, 'utf8'));
console.log(JSON.stringify({ code, summary, params, keys: myExample.summaryKeys }));
`) as { code: number; summary: Record<string, unknown>; params: { params: Record<string, unknown>; mode: string }; keys: string[] };
    expect(out.code).toBe(0);
    expect(out.summary.status).toBe('completed');
    for (const k of out.keys) expect(out.summary).toHaveProperty(k);
    expect(out.params.mode).toBe('tiny');
    expect(out.params.params.steps).toBe(50); // the tiny preset over the default 1000
    // run-folder.md shows params.json and tables run_summary.json's keys: the run's files have those keys
    const runFolder = codeBlocks('docs/run-folder.md');
    const shown = JSON.parse(runFolder.find((x) => x.lang === 'json' && x.code.includes('"format": "cinder-run/1"'))!.code) as Record<string, unknown>;
    expect(Object.keys(out.params).sort()).toEqual(Object.keys(shown).sort());
    const table = readFileSync('docs/run-folder.md', 'utf8').split('## run_summary.json')[1]!.split('\n### ')[0]!;
    const documented = new Set([...table.matchAll(/^\| ((?:`[a-z_]+`(?:, )?)+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([a-z_]+)`/g)].map((k) => k[1]!)));
    expect(documented.size).toBeGreaterThan(5);
    const undocumented = Object.keys(out.summary).filter((k) => !documented.has(k) && !out.keys.includes(k));
    expect(undocumented).toEqual([]);
  }, 150_000);
});
