// postFiltered's filter step on wasm/cpu as fused kernels: folded into SparseLinear's event-driven
// kernel (CinderFusedSparseList with the filter) and CinderFusedFilter on cpu for other bases, bit
// for bit against the base connection's own output followed by the filter written as tfjs ops and as
// float32 steps here, with NaN, ±Infinity, −0 and subnormals in the state, batch 3, both kinds, the
// op path (fused kernels off), and the state after save/load.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from '../../kernels/backends.js';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { moduleFromArtifacts, moduleToArtifacts } from '../../../src/io/serialize.js';
import { setFusedKernels } from '../../../src/kernels/js/fused-memory.js';
import { LinearDense, SparseLinear, postFiltered, synapseList, type Connection, type PostFiltered } from '../../../src/neural/connections/index.js';
import { DeltaConductance, DeltaCurrent } from '../../../src/neural/synapses/index.js';

const f = Math.fround;
const dt = 0.5;
const B = 3;
const I = 10;
const outShape = [2, 3];
const O = 6;

function u32(x: Float32Array): number[] {
  return [...new Uint32Array(x.buffer, x.byteOffset, x.length)];
}

const rng0 = new Rng(11);
const pairs: [number, number][] = [];
for (let i = 0; i < I; i++) for (let j = 0; j < O; j++) if (rng0.uniform() < 0.35) pairs.push([i, j]);
pairs.push([4, 5], [4, 5]);
const list = synapseList(I, O, pairs);
const S = list.pre.length;
const sparseW = Float32Array.from({ length: S }, (_, s) => (s === 3 ? -0 : rng0.normal() * 2));
const denseW = Float32Array.from({ length: I * O }, () => rng0.normal());

type Kind = 'conductance' | 'current';
const synapse = (kind: Kind) => (kind === 'conductance' ? DeltaConductance.factory({ increment: 1.5 }) : DeltaCurrent.factory({ charge: 2 }));

/** A base connection (plain or post-filtered) of one of the two tested types. */
function make(base: 'sparse' | 'dense', kind: Kind, tau: number | null): Connection {
  const opts = { synapse: synapse(kind), batchSize: B };
  if (base === 'sparse') {
    const o = { ...opts, synapses: list, denseLimit: 0, weightInit: () => tf.tensor1d(sparseW) }; // denseLimit 0: the event-driven path
    return tau === null ? new SparseLinear([I], outShape, dt, o) : new (postFiltered(SparseLinear))({ tau }, [I], outShape, dt, o);
  }
  const o = { ...opts, weightInit: () => tf.tensor2d(denseW, [O, I]) };
  return tau === null ? new LinearDense([I], outShape, dt, o) : new (postFiltered(LinearDense))({ tau }, [I], outShape, dt, o);
}

const special = Float32Array.from({ length: B * O }, (_, k) => [NaN, Infinity, -Infinity, -0, 1e-42, -3.4e38, 2.5][k % 7]! * (k % 7 === 6 ? k : 1));

function stateOf(c: Connection): { assign(t: tf.Tensor): void } {
  return c.namedStates().find(([n]) => n === 'postFilter.value')![1];
}

describe.each(fusedBackends())('postFiltered fused filter step on %s', (backend) => {
  for (const base of ['sparse', 'dense'] as const) {
    for (const kind of ['conductance', 'current'] as const) {
      it(`${base} ${kind}: bit-identical to the base's output then the filter ops (fused on and off), kernels per step`, async () => {
        await tf.setBackend(backend);
        const tau = 3;
        const d = Math.exp(-dt / tau);
        const c = dt / tau;
        const rng = new Rng(7);
        const spikes = Array.from({ length: 12 }, () => tf.tensor2d(Float32Array.from({ length: B * I }, () => (rng.uniform() < 0.3 ? 1 : 0)), [B, I]));
        for (const fused of [true, false]) {
          setFusedKernels(fused);
          const filtered = make(base, kind, tau) as Connection & PostFiltered;
          const plain = make(base, kind, null);
          tf.tidy(() => stateOf(filtered).assign(tf.tensor(special, [B, ...outShape])));
          let x = tf.tensor(special, [B, ...outShape]);
          let x32 = special.slice();
          for (const [t, s] of spikes.entries()) {
            const p = await tf.profile(() => tf.tidy(() => tf.keep(filtered.forward(s))));
            const got = p.result as tf.Tensor;
            expect(got.shape).toEqual([B, ...outShape]);
            if (t === 0) {
              const names = p.kernels.map((k) => k.name);
              const folded = fused && base === 'sparse';
              expect(names.includes('CinderFusedSparseList')).toBe(folded);
              expect(names.includes('CinderFusedFilter')).toBe(fused && base === 'dense' && backend === 'cpu');
              // the filter's ops: none when folded or fused, else Mul (·d), Add (+ Mul (·c) for a current)
              const filterOps = names.filter((n) => n === 'Add').length;
              expect(filterOps).toBe(folded || (fused && backend === 'cpu') ? 0 : 1);
            }
            const y = tf.tidy(() => plain.forward(s));
            const nx = tf.tidy(() => tf.add(tf.mul(x, tf.scalar(d)), kind === 'current' ? tf.mul(y, tf.scalar(c)) : y));
            const yv = (await y.data()) as Float32Array;
            x32 = Float32Array.from(x32, (v, k) => f(f(v * f(d)) + (kind === 'current' ? f(yv[k]! * f(c)) : yv[k]!)));
            const g = (await got.data()) as Float32Array;
            expect(u32(g)).toEqual(u32((await nx.data()) as Float32Array));
            expect(u32(g)).toEqual(u32(x32));
            expect(u32((await filtered.filtered.data()) as Float32Array)).toEqual(u32(g));
            tf.dispose([x, y, got]);
            x = nx;
          }
          expect(x32.some((v) => Number.isFinite(v) && v !== 0 && Math.abs(v) > 1e-3)).toBe(true);
          x.dispose();
          filtered.dispose();
          plain.dispose();
        }
        setFusedKernels(true);
        tf.dispose(spikes);
      });
    }
  }

  it('a SparseLinear subclass with its own forward (scaling the sums by 3): the filter takes the scaled sums, fused on and off (float32 loop)', async () => {
    await tf.setBackend(backend);
    class Tripled extends SparseLinear {
      override forward(spikes: tf.Tensor, injected?: tf.Tensor): tf.Tensor {
        return tf.mul(super.forward(spikes, injected), tf.scalar(3));
      }
    }
    const tau = 3;
    const d = f(Math.exp(-dt / tau));
    const rng = new Rng(21);
    const steps = Array.from({ length: 5 }, () => Float32Array.from({ length: B * I }, () => (rng.uniform() < 0.4 ? 1 : 0)));
    // reference: y = 3·Σ_s w_s·1.5·x_pre (float64 sum rounded once, then ×3), x ← f(f(x·d) + y)
    const want = new Float32Array(B * O);
    const expected: number[][] = [];
    for (const x of steps) {
      for (let b = 0; b < B; b++) {
        const acc = new Float64Array(O);
        for (let s = 0; s < S; s++) acc[list.post[s]!]! += sparseW[s]! * f(1.5 * x[b * I + list.pre[s]!]!);
        for (let j = 0; j < O; j++) want[b * O + j] = f(f(want[b * O + j]! * d) + f(f(acc[j]!) * 3));
      }
      expected.push(u32(want));
    }
    for (const fused of [true, false]) {
      setFusedKernels(fused);
      const c = new (postFiltered(Tripled))({ tau }, [I], outShape, dt, { synapse: synapse('conductance'), batchSize: B, synapses: list, denseLimit: 0, weightInit: () => tf.tensor1d(sparseW) });
      for (const [t, x] of steps.entries()) {
        const y = tf.tidy(() => tf.keep(c.forward(tf.tensor2d(x, [B, I]))));
        const got = u32((await y.data()) as Float32Array);
        y.dispose();
        if (fused) expect(got, `step ${t}`).toEqual(expected[t]);
        else for (const [k, v] of got.entries()) expect(Math.abs(new Float32Array(new Uint32Array([v]).buffer)[0]! - new Float32Array(new Uint32Array(expected[t]!).buffer)[k]!), `step ${t}`).toBeLessThan(1e-4);
      }
      c.dispose();
    }
    setFusedKernels(true);
  });

  it('sparse current: save/load after 6 steps, the continuation is bit for bit', async () => {
    await tf.setBackend(backend);
    const rng = new Rng(9);
    const spikes = Array.from({ length: 12 }, () => tf.tensor2d(Float32Array.from({ length: B * I }, () => (rng.uniform() < 0.3 ? 1 : 0)), [B, I]));
    const a = make('sparse', 'current', 4) as Connection & PostFiltered;
    for (const s of spikes.slice(0, 6)) tf.tidy(() => void a.forward(s));
    const art = await moduleToArtifacts(a);
    const saved = u32((await a.filtered.data()) as Float32Array);
    const rest: number[][] = [];
    for (const s of spikes.slice(6)) {
      const t = tf.tidy(() => tf.keep(a.forward(s)));
      rest.push(u32((await t.data()) as Float32Array));
      t.dispose();
    }
    const b = make('sparse', 'current', 4) as Connection & PostFiltered;
    moduleFromArtifacts(b, art);
    expect(u32((await b.filtered.data()) as Float32Array)).toEqual(saved);
    for (const [k, s] of spikes.slice(6).entries()) {
      const t = tf.tidy(() => tf.keep(b.forward(s)));
      expect(u32((await t.data()) as Float32Array)).toEqual(rest[k]);
      t.dispose();
    }
    expect(saved.some((v) => v !== 0)).toBe(true);
    a.dispose();
    b.dispose();
    tf.dispose(spikes);
  });
});
