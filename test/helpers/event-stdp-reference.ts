// Float64 per-synapse recursion of event-driven pair STDP (Brian2 semantics) shared by the kernel's
// tests: every synapse keeps Apre, Apost, decayed each step by e^{−Δt/τ}; pre spikes arrive after
// their delay, on_pre before on_post ('cinder' order: one combined update when both happen).
import type { PairingOrder, WeightDependence } from '../../src/kernels/js/event-stdp.js';
import type { SynapseList } from '../../src/neural/connections/sparse-topology.js';

/** The rule the recursion reads (bounds [wMin, wMax], wMin default 0). */
export interface PairRule {
  dt: number;
  tauPre: number;
  tauPost: number;
  aPre: number;
  aPost: number;
  wMin?: number;
  wMax: number;
  dependence: WeightDependence;
  order: PairingOrder;
}

/**
 * One instance, float64, every synapse's traces decayed every step; each clipped weight rounded to
 * float32 (the kernel's stored weights). Returns the weights and the delivered input after every step.
 */
export function pairStdpReference(list: SynapseList, w0: ArrayLike<number>, pre: number[][], post: number[][], r: PairRule): { ws: Float64Array[]; inputs: Float64Array[] } {
  const S = list.pre.length;
  const w = Float64Array.from(w0);
  const apre = new Float64Array(S);
  const apost = new Float64Array(S);
  const ePre = Math.exp(-r.dt / r.tauPre);
  const ePost = Math.exp(-r.dt / r.tauPost);
  const clip = (x: number) => Math.fround(Math.min(Math.max(x, r.wMin ?? 0), r.wMax));
  const mult = r.dependence === 'multiplicative';
  const ws: Float64Array[] = [];
  const inputs: Float64Array[] = [];
  for (let t = 0; t < pre.length; t++) {
    const input = new Float64Array(list.nPost);
    for (let s = 0; s < S; s++) {
      apre[s]! *= ePre;
      apost[s]! *= ePost;
    }
    const arrives = (s: number) => {
      const d = list.delay ? list.delay[s]! : 0;
      return t - d >= 0 && pre[t - d]!.includes(list.pre[s]!);
    };
    const fires = (s: number) => post[t]!.includes(list.post[s]!);
    const both = new Set<number>();
    for (let s = 0; s < S; s++) {
      if (!arrives(s)) continue;
      input[list.post[s]!]! += w[s]!;
      apre[s]! += r.aPre;
      if (r.order === 'cinder' && fires(s)) {
        apost[s]! += r.aPost;
        w[s] = clip(mult ? w[s]! + apost[s]! * w[s]! + apre[s]! * (r.wMax - w[s]!) : w[s]! + apost[s]! + apre[s]!);
        both.add(s);
      } else {
        w[s] = clip(mult ? w[s]! + apost[s]! * w[s]! : w[s]! + apost[s]!);
      }
    }
    for (let s = 0; s < S; s++) {
      if (!fires(s) || both.has(s)) continue;
      apost[s]! += r.aPost;
      w[s] = clip(mult ? w[s]! + apre[s]! * (r.wMax - w[s]!) : w[s]! + apre[s]!);
    }
    ws.push(w.slice());
    inputs.push(input);
  }
  return { ws, inputs };
}
