/**
 * WebAssembly SIMD neuron passes of {@link EventNetwork}'s LIF populations (./event-network.ts),
 * bit-identical to its JavaScript loops: a small module, assembled here from its instructions at
 * first use, run over a `WebAssembly.Memory` that each LIF group owns ({@link lifArena}: the group's
 * `v`, `ge`, `gi`, `lastSpike` and `spikes` are views on it, so the loops work in place).
 *
 * Each loop takes 4 neurons at a time: their float32 state is widened to two `f64x2` halves
 * (exact), the arithmetic is done in float64 in the JavaScript loop's order (`f64x2` add, sub, mul
 * and div are IEEE operations on each lane, and wasm never fuses a multiply and an add), and the
 * result is rounded to float32 on store (`f32x4.demote_f64x2_zero`, round to nearest even, as
 * `Math.fround`). A refractory neuron (`lastSpike > free`, i32 compare) keeps its old v
 * (`v128.bitselect`) and is not tested; the threshold `nv > th` (float64 th) is tested as
 * `nv ≥ t32` on the float32 nv, t32 the smallest float32 above th ({@link aboveF32}), the same
 * for every float32 nv. Spike indices are written in ascending order from the 4-lane bitmask.
 * The loops cover the first `n4 = n − n mod 4` neurons of a lane; the caller's JavaScript loop
 * does the rest.
 *
 * Loops (pointers: byte offsets into the group's memory, already offset to the lane; `n4` a
 * multiple of 4; each returns the number of spikes it wrote):
 * - `exactCurrent(v, ge, gi, last, spk, n4, free, d, rest, gain, de, di, t32)`:
 *   v ← v·d + rest + gain·(g_e − g_i); g_e ← g_e·de; g_i ← g_i·di.
 * - `eulerCurrent(v, ge, gi, last, spk, n4, free, km, el, ks, ki, t32, flag)`:
 *   v ← v + km·(E_l − v + g_e − g_i); g_e ← g_e·ks; g_i ← g_i·ki; stores 1 at `flag` when a new
 *   g_i is not +0 (bits ≠ 0), else 0.
 * - `eulerCurrentNoGi(v, ge, last, spk, n4, free, km, el, ks, t32)`: the same without g_i (all +0).
 * - `eulerConductance(v, ge, gi, last, spk, n4, free, km, el, ee, ei, de, di, t32)`:
 *   v ← v + km·(E_l − v + g_e·(E_e − v) + g_i·(E_i − v)).
 * - `exactConductancePrep(ge, gi, x, y, n4, rate, el, ee, ei, de, di)`, `exp(x, n2)` (n2 = n4)
 *   and `exactConductanceFinish(v, last, spk, x, y, n4, free, t32)`: the exact conductance step in
 *   three passes over the float64 scratch `x`, `y`: first G = 1 + g_e + g_i, x = G·rate,
 *   y = v∞ = (E_l + g_e·E_e + g_i·E_i)/G and the decays, then x ← e^x, then v ← y + (v − y)·x.
 *   `exp` is fdlibm's exp (the algorithm of e_exp.c, `./wasm-exp.ts`) on f64x2, its branches as
 *   lane masks, with the bits of V8's Math.exp, which is fdlibm's: equal (Object.is) on more than
 *   10⁶ arguments over the whole range and at every threshold (test/kernels/event-simd-exp.test.ts);
 *   a pair of arguments outside 2⁻²⁸ ≤ |x| ≤ 708 (or NaN, or 1, where V8 returns Math.E) takes
 *   the imported Math.exp (`env.exp`; its constants are a table at byte 0 of the memory). At first
 *   use the module checks `exp` against this engine's Math.exp on 4096 probe values; where they
 *   differ (an engine whose Math.exp is not fdlibm's) the caller keeps a JavaScript
 *   `x[i] ← Math.exp(x[i])` pass instead ({@link LifArena.expExact}).
 *
 * NaN payloads may differ from the JavaScript loop's (wasm canonicalises them); every other bit is
 * the same. Where WebAssembly SIMD is unavailable (the module does not validate) or a memory cannot
 * be made, {@link lifArena} returns null and the group keeps plain typed arrays and the JavaScript
 * loops. `CINDER_SIMD=0` at start, or {@link setEventSimd}(false), turns the loops off (the arenas
 * stay; tests compare both routes).
 * @module
 */
import { envSwitch } from '../setting.js';
import { section, sleb, uleb, wasmName as name } from './wasm-encoding.js';
import { EXP_TABLE_BYTES, expMatchesMathExp, expPair, expTableBytes, type ExpLocals } from './wasm-exp.js';

// ---- a minimal assembler for the instructions these loops need ----

const simd = (code: number) => [0xfd, ...uleb(code)];

const I32 = 0x7f;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;

const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32c = (n: number) => [0x41, ...sleb(n)];
const I = {
  add: [0x6a], sub: [0x6b], and: [0x71], shl: [0x74], ctz: [0x68], ne: [0x47], geS: [0x4e], eqz: [0x45], or: [0x72],
  store: [0x36, 2, 0],
};
const V = {
  load: simd(0x00).concat([0, 0]),
  store: simd(0x0b).concat([0, 0]),
  /** i8x16.shuffle by 32-bit lanes (0–3 first operand, 4–7 second). */
  shuffle32: (l: number[]) => [...simd(0x0d), ...l.flatMap((k) => [4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3])],
  and: simd(0x4e), or: simd(0x50), bitselect: simd(0x52), anyTrue: simd(0x53),
  i32splat: simd(0x11), f32splat: simd(0x13), f64splat: simd(0x14),
  i32leS: simd(0x3d), i32ne: simd(0x38), f32ge: simd(0x46), bitmask: simd(0xa4),
  demote: simd(0x5e), promote: simd(0x5f),
  add: simd(0xf0), sub: simd(0xf1), mul: simd(0xf2), div: simd(0xf3),
  zero: [...simd(0x0c), ...new Array<number>(16).fill(0)],
};
/** `block { loop { <exitIf>; br_if 1; body; br 0 } }` */
const loop = (exitIf: number[], body: number[]) => [0x02, 0x40, 0x03, 0x40, ...exitIf, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b];

interface Fn {
  name: string;
  params: number[];
  results: number[];
  locals: number[];
  body: number[];
}

/** Function index of the imported `env.exp` (JavaScript's Math.exp); the module's own functions follow it. */
const EXP_IMPORT = 0;

function assemble(fns: Fn[]): Uint8Array<ArrayBuffer> {
  // type 0: (f64) → f64, the import's; type 1 + i: function i's
  const types = [0x60, 1, F64, 1, F64, ...fns.flatMap((f) => [0x60, ...uleb(f.params.length), ...f.params, ...uleb(f.results.length), ...f.results])];
  const data = [...expTableBytes()];
  const bodies = fns.flatMap((f) => {
    const code = [...uleb(f.locals.length), ...f.locals.flatMap((t) => [1, t]), ...f.body, 0x0b];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [...uleb(fns.length + 1), ...types]),
    ...section(2, [2, ...name('env'), ...name('exp'), 0x00, 0, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [...uleb(fns.length), ...fns.flatMap((_, i) => uleb(i + 1))]),
    ...section(7, [...uleb(fns.length), ...fns.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i + 1)])]),
    ...section(10, [...uleb(fns.length), ...bodies]),
    // one active data segment: the constant table at byte 0
    ...section(11, [1, 0x00, ...i32c(0), 0x0b, ...uleb(data.length), ...data]),
  ]);
}

/**
 * Builds one function from named parameters: `body(p, l)` gets the parameter indices by name and a
 * local allocator `l(type)`.
 */
function fn(fname: string, params: [string, number][], results: number[], body: (p: Record<string, number>, l: (t: number) => number) => number[]): Fn {
  const p: Record<string, number> = {};
  params.forEach(([k], i) => (p[k] = i));
  const locals: number[] = [];
  const l = (t: number) => {
    locals.push(t);
    return params.length + locals.length - 1;
  };
  const code = body(p, l);
  return { name: fname, params: params.map(([, t]) => t), results, locals, body: code };
}

/** Loads 4 float32 at `base + i·4` and widens them to two f64x2 locals (low, high). */
function widen(base: number, i4: number, tmp: number, lo: number, hi: number): number[] {
  return [
    ...get(base), ...get(i4), ...I.add, ...V.load, ...set(tmp),
    ...get(tmp), ...V.promote, ...set(lo),
    ...get(tmp), ...get(tmp), ...V.shuffle32([2, 3, 0, 1]), ...V.promote, ...set(hi),
  ];
}

/** Rounds two f64x2 expressions to float32 and packs them into one f32x4 (left on the stack). */
function narrow(lo: number[], hi: number[]): number[] {
  return [...lo, ...V.demote, ...hi, ...V.demote, ...V.shuffle32([0, 1, 4, 5])];
}

/** Stores `value` (f32x4) at `base + i·4`. */
function storeAt(base: number, i4: number, value: number[]): number[] {
  return [...get(base), ...get(i4), ...I.add, ...value, ...V.store];
}

/**
 * The loop skeleton: for i = 0, 4, … < n4: `step` leaves the new v (f32x4) in local `nv`; then
 * v ← bitselect(nv, v, free), and the free lanes with nv ≥ t32 are appended to spk. Returns the count.
 * `p` must hold v, last, spk, n4, free, t32; `step(i4)` gets the byte offset local.
 */
function neuronLoop(p: Record<string, number>, l: (t: number) => number, step: (i4: number, vlo: number, vhi: number, nv: number) => number[]): number[] {
  const i = l(I32);
  const i4 = l(I32);
  const c = l(I32);
  const mask = l(I32);
  const vold = l(V128);
  const vlo = l(V128);
  const vhi = l(V128);
  const nv = l(V128);
  const fr = l(V128);
  const freeV = l(V128);
  const thV = l(V128);
  return [
    ...get(p.free!), ...V.i32splat, ...set(freeV),
    ...get(p.t32!), ...V.f32splat, ...set(thV),
    ...loop([...get(i), ...get(p.n4!), ...I.geS], [
      ...get(i), ...i32c(2), ...I.shl, ...set(i4),
      ...widen(p.v!, i4, vold, vlo, vhi),
      ...step(i4, vlo, vhi, nv),
      // free = lastSpike ≤ free step
      ...get(p.last!), ...get(i4), ...I.add, ...V.load, ...get(freeV), ...V.i32leS, ...set(fr),
      ...storeAt(p.v!, i4, [...get(nv), ...get(vold), ...get(fr), ...V.bitselect]),
      ...get(nv), ...get(thV), ...V.f32ge, ...get(fr), ...V.and, ...V.bitmask, ...set(mask),
      ...loop([...get(mask), ...I.eqz], [
        ...get(p.spk!), ...get(c), ...i32c(2), ...I.shl, ...I.add,
        ...get(i), ...get(mask), ...I.ctz, ...I.add, ...I.store,
        ...get(c), ...i32c(1), ...I.add, ...set(c),
        ...get(mask), ...get(mask), ...i32c(1), ...I.sub, ...I.and, ...set(mask),
      ]),
      ...get(i), ...i32c(4), ...I.add, ...set(i),
    ]),
    ...get(c),
  ];
}

const splat = (x: number) => [...get(x), ...V.f64splat];
/** The two halves of `f(lo or hi)`. */
const halves = (f: (h: 0 | 1) => number[]) => narrow(f(0), f(1));
/**
 * g_e and g_i of 4 cells at `i4` widened into the halves `e`, `h` (their old values, for the
 * voltage), then stored decayed: g_e·de, g_i·di (params `ge`, `gi`, `de`, `di`; `t` a scratch v128).
 */
const decayBoth = (p: Record<string, number>, i4: number, t: number, e: number[], h: number[]) => [
  ...widen(p.ge!, i4, t, e[0]!, e[1]!),
  ...widen(p.gi!, i4, t, h[0]!, h[1]!),
  ...storeAt(p.ge!, i4, halves((k) => [...get(e[k]!), ...splat(p.de!), ...V.mul])),
  ...storeAt(p.gi!, i4, halves((k) => [...get(h[k]!), ...splat(p.di!), ...V.mul])),
];

/**
 * A neuron pass ({@link neuronLoop}) whose step stores g_e and g_i decayed ({@link decayBoth}) and
 * takes as new v the float32 rounding of `voltage(p, x, e, h)`, an f64x2 expression of one half's
 * locals: x the widened old v, e and h the old g_e and g_i (float64; see {@link halves}).
 */
function decayingNeuronFn(name: string, ps: [string, number][], voltage: (p: Record<string, number>, x: number, e: number, h: number) => number[]): Fn {
  return fn(name, ps, [I32], (p, l) => {
    const t = l(V128);
    const e = [l(V128), l(V128)];
    const h = [l(V128), l(V128)];
    return neuronLoop(p, l, (i4, vlo, vhi, nv) => {
      const vv = [vlo, vhi];
      return [...decayBoth(p, i4, t, e, h), ...halves((k) => voltage(p, vv[k]!, e[k]!, h[k]!)), ...set(nv)];
    });
  });
}

function exactCurrentFn(): Fn {
  const ps: [string, number][] = [['v', I32], ['ge', I32], ['gi', I32], ['last', I32], ['spk', I32], ['n4', I32], ['free', I32], ['d', F64], ['rest', F64], ['gain', F64], ['de', F64], ['di', F64], ['t32', F32]];
  // ((v·d) + rest) + gain·(e − h)
  return decayingNeuronFn('exactCurrent', ps, (p, x, e, h) => [...get(x), ...splat(p.d!), ...V.mul, ...splat(p.rest!), ...V.add, ...splat(p.gain!), ...get(e), ...get(h), ...V.sub, ...V.mul, ...V.add]);
}

function eulerCurrentFn(withGi: boolean): Fn {
  const ps: [string, number][] = withGi
    ? [['v', I32], ['ge', I32], ['gi', I32], ['last', I32], ['spk', I32], ['n4', I32], ['free', I32], ['km', F64], ['el', F64], ['ks', F64], ['ki', F64], ['t32', F32], ['flag', I32]]
    : [['v', I32], ['ge', I32], ['last', I32], ['spk', I32], ['n4', I32], ['free', I32], ['km', F64], ['el', F64], ['ks', F64], ['t32', F32]];
  return fn(withGi ? 'eulerCurrent' : 'eulerCurrentNoGi', ps, [I32], (p, l) => {
    const t = l(V128);
    const e = [l(V128), l(V128)];
    const h = [l(V128), l(V128)];
    const live = l(V128);
    const hn = l(V128);
    const loopCode = neuronLoop(p, l, (i4, vlo, vhi, nv) => {
      const vv = [vlo, vhi];
      const code = [...widen(p.ge!, i4, t, e[0]!, e[1]!), ...storeAt(p.ge!, i4, halves((k) => [...get(e[k]!), ...splat(p.ks!), ...V.mul]))];
      if (withGi) {
        code.push(
          ...widen(p.gi!, i4, t, h[0]!, h[1]!),
          ...halves((k) => [...get(h[k]!), ...splat(p.ki!), ...V.mul]), ...set(hn),
          ...storeAt(p.gi!, i4, get(hn)),
          ...get(live), ...get(hn), ...V.zero, ...V.i32ne, ...V.or, ...set(live),
        );
      }
      // x + km·(((E_l − x) + e) − h)
      code.push(...halves((k) => [
        ...get(vv[k]!), ...splat(p.km!),
        ...splat(p.el!), ...get(vv[k]!), ...V.sub, ...get(e[k]!), ...V.add, ...(withGi ? [...get(h[k]!), ...V.sub] : []),
        ...V.mul, ...V.add,
      ]), ...set(nv));
      return code;
    });
    if (!withGi) return loopCode;
    // the loop leaves the count on the stack; the flag store takes the two values above it
    return [...loopCode, ...get(p.flag!), ...get(live), ...V.anyTrue, ...I.store];
  });
}

function eulerConductanceFn(): Fn {
  const ps: [string, number][] = [['v', I32], ['ge', I32], ['gi', I32], ['last', I32], ['spk', I32], ['n4', I32], ['free', I32], ['km', F64], ['el', F64], ['ee', F64], ['ei', F64], ['de', F64], ['di', F64], ['t32', F32]];
  // x + km·(((E_l − x) + e·(E_e − x)) + h·(E_i − x))
  return decayingNeuronFn('eulerConductance', ps, (p, x, e, h) => [
    ...get(x), ...splat(p.km!),
    ...splat(p.el!), ...get(x), ...V.sub,
    ...get(e), ...splat(p.ee!), ...get(x), ...V.sub, ...V.mul, ...V.add,
    ...get(h), ...splat(p.ei!), ...get(x), ...V.sub, ...V.mul, ...V.add,
    ...V.mul, ...V.add,
  ]);
}

function exactConductancePrepFn(): Fn {
  const ps: [string, number][] = [['ge', I32], ['gi', I32], ['x', I32], ['y', I32], ['n4', I32], ['rate', F64], ['el', F64], ['ee', F64], ['ei', F64], ['de', F64], ['di', F64]];
  return fn('exactConductancePrep', ps, [], (p, l) => {
    const i = l(I32);
    const i4 = l(I32);
    const i8 = l(I32);
    const t = l(V128);
    const e = [l(V128), l(V128)];
    const h = [l(V128), l(V128)];
    const G = l(V128);
    const code: number[] = [];
    code.push(...loop([...get(i), ...get(p.n4!), ...I.geS], [
      ...get(i), ...i32c(2), ...I.shl, ...set(i4),
      ...get(i), ...i32c(3), ...I.shl, ...set(i8),
      ...decayBoth(p, i4, t, e, h),
      ...[0, 1].flatMap((k) => [
        // G = (1 + e) + h
        ...f64One(), ...get(e[k]!), ...V.add, ...get(h[k]!), ...V.add, ...set(G),
        ...get(p.x!), ...get(i8), ...I.add, ...get(G), ...splat(p.rate!), ...V.mul, ...simd(0x0b), 3, 16 * k,
        // v∞ = ((E_l + e·E_e) + h·E_i)/G
        ...get(p.y!), ...get(i8), ...I.add,
        ...splat(p.el!), ...get(e[k]!), ...splat(p.ee!), ...V.mul, ...V.add, ...get(h[k]!), ...splat(p.ei!), ...V.mul, ...V.add, ...get(G), ...V.div,
        ...simd(0x0b), 3, 16 * k,
      ]),
      ...get(i), ...i32c(4), ...I.add, ...set(i),
    ]));
    return code;
  });
}

/** f64x2 splat of 1.0. */
function f64One(): number[] {
  const b = new Uint8Array(new Float64Array([1, 1]).buffer);
  return [...simd(0x0c), ...b];
}

/** Bytes at the start of the memory that hold the constant table of `exp` (see `./wasm-exp.ts`). */
const TABLE_BYTES = EXP_TABLE_BYTES;

/**
 * `exp(x, n2)`: x[i] ← e^{x[i]} in place for the float64 x[0 … n2) (n2 even), two at a time, with
 * the bits of fdlibm's exp (e_exp.c), which are those of V8's Math.exp ({@link expPair}; its
 * constant table at byte 0 of the memory, its fallback the imported Math.exp).
 */
function expFn(): Fn {
  return fn('exp', [['x', I32], ['n2', I32]], [], (p, l) => {
    const i = l(I32);
    const at = l(I32);
    const v128 = () => l(V128);
    const locals: ExpLocals = { x: v128(), ax: v128(), k: v128(), hi: v128(), lo: v128(), r: v128(), t: v128(), c: v128() };
    return loop([...get(i), ...get(p.n2!), ...I.geS], [
      ...get(p.x!), ...get(i), ...i32c(3), ...I.shl, ...I.add, ...set(at),
      ...get(at), ...V.load, ...set(locals.x),
      ...get(at), ...expPair(locals, i32c(0), EXP_IMPORT), ...V.store,
      ...get(i), ...i32c(2), ...I.add, ...set(i),
    ]);
  });
}

function exactConductanceFinishFn(): Fn {
  const ps: [string, number][] = [['v', I32], ['last', I32], ['spk', I32], ['x', I32], ['y', I32], ['n4', I32], ['free', I32], ['t32', F32]];
  return fn('exactConductanceFinish', ps, [I32], (p, l) => {
    const i8 = l(I32);
    return neuronLoop(p, l, (i4, vlo, vhi, nv) => {
      const vv = [vlo, vhi];
      // y + (v − y)·x
      const half = (k: 0 | 1) => {
        const at = (base: number) => [...get(base), ...get(i8), ...I.add, ...simd(0x00), 3, 16 * k];
        return [...at(p.y!), ...get(vv[k]!), ...at(p.y!), ...V.sub, ...at(p.x!), ...V.mul, ...V.add];
      };
      return [...get(i4), ...i32c(1), ...I.shl, ...set(i8), ...narrow(half(0), half(1)), ...set(nv)];
    });
  });
}

/** The exported loops (see the module comment). */
export interface EventSimdLoops {
  exactCurrent(v: number, ge: number, gi: number, last: number, spk: number, n4: number, free: number, d: number, rest: number, gain: number, de: number, di: number, t32: number): number;
  eulerCurrent(v: number, ge: number, gi: number, last: number, spk: number, n4: number, free: number, km: number, el: number, ks: number, ki: number, t32: number, flag: number): number;
  eulerCurrentNoGi(v: number, ge: number, last: number, spk: number, n4: number, free: number, km: number, el: number, ks: number, t32: number): number;
  eulerConductance(v: number, ge: number, gi: number, last: number, spk: number, n4: number, free: number, km: number, el: number, ee: number, ei: number, de: number, di: number, t32: number): number;
  exactConductancePrep(ge: number, gi: number, x: number, y: number, n4: number, rate: number, el: number, ee: number, ei: number, de: number, di: number): void;
  exactConductanceFinish(v: number, last: number, spk: number, x: number, y: number, n4: number, free: number, t32: number): number;
  exp(x: number, n2: number): void;
}

let compiled: WebAssembly.Module | null | undefined;
/** Whether the module's `exp` gave Math.exp's bits on every probe ({@link expProbe}). */
let expExact = false;

/** The compiled module, or null where WebAssembly SIMD is unavailable. */
function simdModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const bytes = assemble([exactCurrentFn(), eulerCurrentFn(true), eulerCurrentFn(false), eulerConductanceFn(), exactConductancePrepFn(), exactConductanceFinishFn(), expFn()]);
    if (WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
    if (compiled) expExact = expProbe(compiled);
  } catch {
    compiled = null;
  }
  return compiled;
}

/**
 * Whether the module's `exp` equals this engine's Math.exp (Object.is) on the probe values
 * ({@link expMatchesMathExp}, in a memory of its own): it follows fdlibm, which V8 (Node, Chromium)
 * and SpiderMonkey use; an engine whose Math.exp differs keeps the JavaScript Math.exp pass, so
 * that the SIMD route still gives the JavaScript loop's bits.
 */
function expProbe(mod: WebAssembly.Module): boolean {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const loops = new WebAssembly.Instance(mod, { env: { memory, exp: Math.exp } }).exports as unknown as EventSimdLoops;
  return expMatchesMathExp(memory, TABLE_BYTES, loops.exp);
}

/**
 * A LIF group's state in its own `WebAssembly.Memory` (never grown, so the views stay valid), with
 * the loops bound to it. Byte offsets: the constant table of `exp` first (256 bytes), then `vPtr`,
 * `gePtr`, `giPtr`, `lastPtr` ([B·n] each), `spkPtr` ([n]), `xPtr`, `yPtr` ([n] float64 scratch),
 * `flagPtr` (one int32).
 */
export interface LifArena {
  /** The memory. */
  memory: WebAssembly.Memory;
  /** Loops over {@link memory}. */
  loops: EventSimdLoops;
  /** v view ([B·n] float32). */
  v: Float32Array;
  /** g_e view. */
  ge: Float32Array;
  /** g_i view. */
  gi: Float32Array;
  /** lastSpike view ([B·n] int32). */
  lastSpike: Int32Array;
  /** spikes view ([n] int32). */
  spikes: Int32Array;
  /** float64 scratch x ([n]). */
  x: Float64Array;
  /** int32 view of the flag word. */
  flag: Int32Array;
  /** Byte offset of {@link v}. */
  vPtr: number;
  /** Byte offset of {@link ge}. */
  gePtr: number;
  /** Byte offset of {@link gi}. */
  giPtr: number;
  /** Byte offset of {@link lastSpike}. */
  lastPtr: number;
  /** Byte offset of {@link spikes}. */
  spkPtr: number;
  /** Byte offset of {@link x}. */
  xPtr: number;
  /** Byte offset of the float64 scratch y ([n]). */
  yPtr: number;
  /** Byte offset of {@link flag}. */
  flagPtr: number;
  /**
   * Whether `loops.exp` gives this engine's Math.exp bits (checked once on probe values): then the
   * exact conductance step takes it, else a JavaScript Math.exp pass.
   */
  expExact: boolean;
}

/**
 * A new arena for `batch` lanes of `n` neurons (zeroed), or null where the SIMD loops do not apply
 * (no WebAssembly SIMD, more than 4 GiB, or the memory could not be made): the caller then uses
 * plain typed arrays.
 */
export function lifArena(batch: number, n: number): LifArena | null {
  const mod = simdModule();
  if (mod === null || n < 4) return null;
  const size = batch * n;
  const a16 = (bytes: number) => Math.ceil(bytes / 16) * 16;
  const vPtr = TABLE_BYTES;
  const gePtr = vPtr + a16(4 * size);
  const giPtr = gePtr + a16(4 * size);
  const lastPtr = giPtr + a16(4 * size);
  const spkPtr = lastPtr + a16(4 * size);
  const xPtr = spkPtr + a16(4 * n);
  const yPtr = xPtr + a16(8 * n);
  const flagPtr = yPtr + a16(8 * n);
  const bytes = flagPtr + 16;
  const pages = Math.ceil(bytes / 65536);
  if (!(pages <= 65536)) return null;
  try {
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const loops = new WebAssembly.Instance(mod, { env: { memory, exp: Math.exp } }).exports as unknown as EventSimdLoops;
    const buf = memory.buffer;
    return {
      memory, loops, vPtr, gePtr, giPtr, lastPtr, spkPtr, xPtr, yPtr, flagPtr, expExact,
      v: new Float32Array(buf, vPtr, size), ge: new Float32Array(buf, gePtr, size), gi: new Float32Array(buf, giPtr, size),
      lastSpike: new Int32Array(buf, lastPtr, size), spikes: new Int32Array(buf, spkPtr, n), x: new Float64Array(buf, xPtr, n), flag: new Int32Array(buf, flagPtr, 1),
    };
  } catch {
    return null;
  }
}

/** Switch for the SIMD neuron passes: `CINDER_SIMD=0` turns them off at start. */
const eventSimd = envSwitch('CINDER_SIMD');

/** Turns the SIMD neuron passes of EventNetwork on or off (tests compare both routes); returns the previous setting. */
export function setEventSimd(on: boolean): boolean {
  return eventSimd.set(on);
}

/** Whether the SIMD neuron passes are on. */
export function eventSimdOn(): boolean {
  return eventSimd.get();
}

const F32_BOX = new Float32Array(1);
const U32_BOX = new Uint32Array(F32_BOX.buffer);

/**
 * The smallest float32 above `th` (finite double): for every float32 x, x > th ⇔ x ≥ aboveF32(th)
 * (+∞ when th is at or above the largest float32).
 */
export function aboveF32(th: number): number {
  const f = Math.fround(th);
  if (f > th) return f;
  if (f === 0) return 1.401298464324817e-45;
  F32_BOX[0] = f;
  U32_BOX[0] = f > 0 ? U32_BOX[0]! + 1 : U32_BOX[0]! - 1;
  return F32_BOX[0]!;
}
