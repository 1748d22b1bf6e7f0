/**
 * A culture network with livn's plasticity API in Cinder's naming: `enablePlasticity`,
 * `disablePlasticity`, `normalizeWeights`, `getWeights`, `recordWeights`, `recordSpikes`,
 * `recordVoltage` and `run(ms)`. It drives the event-driven {@link CultureEngine}
 * (src/kernels/js/culture.ts) whose plastic synapses follow voltage-gated STDP
 * (src/kernels/js/voltage-stdp.ts; the tfjs op path of the rule is the `VoltageSTDP` trainer).
 *
 * Plasticity groups (livn's mechanism groups): `EXC` = the AMPA and NMDA synapses
 * (`StdpLinExp2Syn`, excitatory rule), `INH` = the GABA_A synapses (`StdpLinExp2SynInh`). The group
 * names the synapse type, not the postsynaptic population.
 *
 * Weight keys: one plastic synapse per connection and receptor, keyed by (post gid, synapse id,
 * mechanism) where the synapse id is the presynaptic gid; the order is by post gid, then mechanism
 * (AMPA, NMDA, GABA_A), then pre gid. In a batch of cultures the gids are global
 * (`culture·size + local gid`) and {@link PlasticityNetwork.culture} gives each neuron's culture.
 * @module
 */
import { CinderArgumentError, describe } from '../core/errors.js';
import { CultureEngine, type CultureSpec } from '../kernels/js/culture.js';
import {
  VOLTAGE_STDP_KEYS, voltageStdpPreset, withVoltageStdpOverrides, type VoltageStdpParams,
} from '../kernels/js/voltage-stdp.js';

/** The plasticity groups, in order. */
export const PLASTICITY_GROUPS = ['EXC', 'INH'] as const;
/** A plasticity group name. */
export type PlasticityGroup = (typeof PLASTICITY_GROUPS)[number];
/** Rule overrides (all keys of {@link VoltageStdpParams} except `inhibitory`). */
export type PlasticityOverrides = Partial<Omit<VoltageStdpParams, 'inhibitory'>>;
/** `enablePlasticity` argument: flat overrides for every group, or per group. */
export type PlasticityConfig = PlasticityOverrides | Partial<Record<PlasticityGroup, PlasticityOverrides>>;

/** Weights in key order (see the module text). */
export interface WeightTable {
  /** Post gid of each synapse. */
  gid: Int32Array;
  /** Synapse id (the presynaptic gid). */
  syn: Int32Array;
  /** Mechanism code (index into `mechanisms`). */
  mech: Int32Array;
  /** Mechanism names (the legend of `mech`). */
  mechanisms: readonly string[];
  /** Plastic weights w. */
  w: Float32Array;
}

/** What {@link PlasticityNetwork.run} returns for its chunk. */
export interface RunChunk {
  /** Spike times (ms, from the start of the chunk), when spikes are recorded. */
  spikeTimes: Float32Array;
  /** Spiking gids, aligned with `spikeTimes`. */
  spikeGids: Int32Array;
  /** Recorded gids of `voltage`. */
  voltageGids: Int32Array;
  /** Voltages [voltageGids.length, steps] (mV, the somatic voltage the rule sees). */
  voltage: Float32Array;
  /** Steps in the chunk. */
  steps: number;
}

/** The weight recording. */
export interface WeightRecording {
  /** Times (ms since the network's start) of the rows. */
  tMs: Float64Array;
  /** Rows of weights [tMs.length, synapses] in key order. */
  w: Float32Array;
  /** Synapses per row. */
  synapses: number;
  /** Key-order index of each column. */
  index: Int32Array;
}

/** Culture network with livn's plasticity API (see the module text). */
export class PlasticityNetwork {
  /** The engine. */
  readonly engine: CultureEngine;
  /** Culture index of each neuron (all 0 for a single culture). */
  readonly culture: Int32Array;
  private spikesOn = false;
  private voltageGids: Int32Array | null = null;
  private weightEverySteps = 0;
  private weightStartStep = 0;
  private weightIndex: Int32Array | null = null;
  private readonly wRows: Float32Array[] = [];
  private readonly wTimes: number[] = [];
  private chunkSpikeSteps: number[] = [];
  private chunkSpikeGids: number[] = [];

  /**
   * @param spec the culture (receptor `group`s index {@link PLASTICITY_GROUPS}; `groups` are the
   *   initial rule parameters, usually the presets)
   * @param culture culture index per neuron (default: all 0): an Int32Array of one integer >= 0
   *   per neuron
   * @throws CinderArgumentError for a spec without two parameter sets or a culture array of
   *   another length or with a negative index
   */
  constructor(spec: CultureSpec, culture?: Int32Array) {
    if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.groups)) throw new CinderArgumentError('spec', spec, 'a CultureSpec');
    if (spec.groups.length !== PLASTICITY_GROUPS.length) throw new CinderArgumentError('spec.groups', spec.groups.length, `${PLASTICITY_GROUPS.length} parameter sets (${PLASTICITY_GROUPS.join(', ')})`);
    this.engine = new CultureEngine(spec);
    if (culture !== undefined) {
      if (!(culture instanceof Int32Array) || culture.length !== this.engine.n) throw new CinderArgumentError('culture', culture, `an Int32Array of ${this.engine.n} culture indices (one per neuron)`);
      const k = culture.findIndex((c) => c < 0);
      if (k >= 0) throw new CinderArgumentError(`culture[${k}]`, culture[k], 'a culture index >= 0');
    }
    this.culture = culture ?? new Int32Array(this.engine.n);
    this.engine.onSpike = (step, i) => {
      if (!this.spikesOn) return;
      this.chunkSpikeSteps.push(step);
      this.chunkSpikeGids.push(i);
    };
  }

  /** Number of neurons. */
  get size(): number {
    return this.engine.n;
  }

  /** Number of plastic synapses. */
  get synapseCount(): number {
    return this.engine.edges;
  }

  /** Simulated time so far (ms). */
  get timeMs(): number {
    return this.engine.stepCount * this.engine.dt;
  }

  /** Which groups have plasticity on. */
  get plasticityOn(): Record<PlasticityGroup, boolean> {
    return { EXC: this.engine.sites[0]!.on, INH: this.engine.sites[1]!.on };
  }

  /** The rule parameters per group. */
  plasticityParams(): Record<PlasticityGroup, VoltageStdpParams> {
    return { EXC: { ...this.engine.sites[0]!.params }, INH: { ...this.engine.sites[1]!.params } };
  }

  /**
   * Turns plasticity on. Without `config`: livn's defaults for both groups. A flat object overrides
   * the defaults of every group; `{ EXC: {...}, INH: {...} }` overrides per group and turns on only
   * the groups named. Enabling sets every synapse's I_c ← I. Parameters are always the group's
   * preset plus the overrides of this call. Unknown keys or bad values throw before any change.
   */
  enablePlasticity(config?: PlasticityConfig): void {
    const next = this.resolve(config);
    next.forEach((p, g) => {
      if (p === null) return;
      const site = this.engine.sites[g]!;
      site.setParams(p);
      site.enable();
    });
  }

  /** Turns plasticity off for `groups` (default: all): their weights freeze. */
  disablePlasticity(groups: readonly PlasticityGroup[] = PLASTICITY_GROUPS): void {
    if (!Array.isArray(groups)) throw new CinderArgumentError('groups', groups, `an array of ${PLASTICITY_GROUPS.join(', ')}`);
    const idx = groups.map((g, i) => {
      const k = PLASTICITY_GROUPS.indexOf(g);
      if (k < 0) throw new CinderArgumentError(`groups[${i}]`, g, `one of ${PLASTICITY_GROUPS.join(', ')}`);
      return k;
    });
    for (const k of idx) this.engine.sites[k]!.disable();
  }

  private resolve(config: PlasticityConfig | undefined): (VoltageStdpParams | null)[] {
    if (config === undefined || config === null) return PLASTICITY_GROUPS.map((_, g) => ({ ...voltageStdpPreset(g === 1) }));
    if (typeof config !== 'object' || Array.isArray(config)) throw new CinderArgumentError('config', config, 'an object of rule parameters, or { EXC: {...}, INH: {...} }');
    const keys = Object.keys(config);
    const nested = keys.some((k) => (PLASTICITY_GROUPS as readonly string[]).includes(k));
    const checkFlat = (o: unknown, where: string) => {
      if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new CinderArgumentError(where, o, 'an object of rule parameters');
      for (const k of Object.keys(o)) {
        if (k === 'inhibitory' || !(VOLTAGE_STDP_KEYS as readonly string[]).includes(k)) {
          throw new CinderArgumentError(`${where} key`, k, `one of ${VOLTAGE_STDP_KEYS.filter((x) => x !== 'inhibitory').join(', ')}`);
        }
      }
    };
    if (!nested) {
      checkFlat(config, 'config');
      return PLASTICITY_GROUPS.map((name, g) => withVoltageStdpOverrides(voltageStdpPreset(g === 1), config, `config (${name})`));
    }
    for (const k of keys) {
      if (!(PLASTICITY_GROUPS as readonly string[]).includes(k)) throw new CinderArgumentError('config population', k, `one of ${PLASTICITY_GROUPS.join(', ')} (or a flat object of rule parameters)`);
    }
    const c = config as Partial<Record<PlasticityGroup, PlasticityOverrides>>;
    return PLASTICITY_GROUPS.map((name, g) => {
      if (!(name in c)) return null;
      checkFlat(c[name], `config.${name}`);
      return withVoltageStdpOverrides(voltageStdpPreset(g === 1), c[name], `config.${name}`);
    });
  }

  /**
   * livn's `normalize_weights`: for each postsynaptic neuron, its plastic weights (all groups
   * together) are scaled so that their sum is `target` (default: their count, i.e. mean 1). Weights
   * that would leave [w_min, w_max] are clamped and leave the free set; the remainder is
   * redistributed over the free ones, at most 20 rounds. Ratios among free weights are kept.
   * Computed in double precision, stored as float32. Returns the number of neurons normalised.
   */
  normalizeWeights(target?: number): number {
    if (target !== undefined && (typeof target !== 'number' || !Number.isFinite(target) || target < 0)) {
      throw new CinderArgumentError('target', target, 'a finite number >= 0 (a per-neuron sum), or undefined for the synapse count');
    }
    const e = this.engine;
    const post = e.culture.edgePost;
    const m = post.length;
    let done = 0;
    let start = 0;
    while (start < m) {
      let end = start;
      while (end < m && post[end] === post[start]) end++;
      this.normalizeGroup(start, end, target ?? end - start);
      done++;
      start = end;
    }
    return done;
  }

  private normalizeGroup(start: number, end: number, target: number): void {
    const e = this.engine;
    const n = end - start;
    const w = new Float64Array(n);
    const lo = new Float64Array(n);
    const hi = new Float64Array(n);
    const free = new Uint8Array(n).fill(1);
    for (let j = 0; j < n; j++) {
      const edge = start + j;
      const site = e.sites[e.edgeGroup[edge]!]!;
      w[j] = site.weight[e.edgeSlot[edge]!]!;
      lo[j] = site.params.wMin;
      hi[j] = site.params.wMax;
    }
    let clamped = 0;
    for (let round = 0; round < 20; round++) {
      let sumFree = 0;
      for (let j = 0; j < n; j++) if (free[j]) sumFree += w[j]!;
      if (sumFree <= 0) break;
      const remaining = target - clamped;
      if (Math.abs(sumFree - remaining) <= 1e-12) break;
      const scale = remaining / sumFree;
      let newly = 0;
      for (let j = 0; j < n; j++) {
        if (!free[j]) continue;
        const x = w[j]! * scale;
        if (x >= hi[j]!) { w[j] = hi[j]!; free[j] = 0; clamped += hi[j]!; newly++; }
        else if (x <= lo[j]!) { w[j] = lo[j]!; free[j] = 0; clamped += lo[j]!; newly++; }
        else w[j] = x;
      }
      if (newly === 0) break;
    }
    for (let j = 0; j < n; j++) {
      const edge = start + j;
      e.sites[e.edgeGroup[edge]!]!.weight[e.edgeSlot[edge]!] = w[j]!;
    }
  }

  /** All plastic weights in key order (see the module text). */
  getWeights(): WeightTable {
    const e = this.engine;
    const s = e.culture;
    const m = e.edges;
    const w = new Float32Array(m);
    for (let k = 0; k < m; k++) w[k] = e.plasticWeight(k);
    return {
      gid: Int32Array.from(s.edgePost),
      syn: Int32Array.from(s.edgePre),
      mech: Int32Array.from(s.edgeReceptor),
      mechanisms: s.receptors.map((r) => r.name),
      w,
    };
  }

  /** Replaces all plastic weights (key order); checked against each synapse's bounds first. */
  setWeights(w: ArrayLike<number>): void {
    const e = this.engine;
    if (!w || w.length !== e.edges) throw new CinderArgumentError('w', describe(w), `${e.edges} weights (one per plastic synapse)`);
    for (let k = 0; k < w.length; k++) {
      const p = e.sites[e.edgeGroup[k]!]!.params;
      if (!(w[k]! >= p.wMin && w[k]! <= p.wMax)) throw new CinderArgumentError(`w[${k}]`, w[k], `a weight in [${p.wMin}, ${p.wMax}]`);
    }
    for (let k = 0; k < w.length; k++) e.sites[e.edgeGroup[k]!]!.weight[e.edgeSlot[k]!] = w[k]!;
  }

  /**
   * Records plastic weights every `dt` ms (a whole number of steps, > 0) from now on; the first
   * row is the current state, then one row every `dt` ms after it. `synapses` (indices in key order, default all) selects the columns;
   * it is fixed by the first call. Later calls change the interval (rows are kept; a call at the
   * time of the last row adds none).
   */
  recordWeights(dt: number, synapses?: readonly number[]): void {
    if (typeof dt !== 'number' || !Number.isFinite(dt) || dt <= 0) throw new CinderArgumentError('dt', dt, 'a recording interval > 0 ms');
    const steps = dt / this.engine.dt;
    if (Math.abs(steps - Math.round(steps)) > 1e-9 * steps || Math.round(steps) < 1) {
      throw new CinderArgumentError('dt', dt, `a whole number of steps (a multiple of ${this.engine.dt} ms)`);
    }
    const m = this.engine.edges;
    if (synapses !== undefined) {
      if (!Array.isArray(synapses)) throw new CinderArgumentError('synapses', synapses, 'an array of synapse indices');
      synapses.forEach((k, i) => {
        if (!Number.isInteger(k) || k < 0 || k >= m) throw new CinderArgumentError(`synapses[${i}]`, k, `an index in [0, ${m})`);
      });
      if (this.weightIndex && this.wRows.length && (synapses.length !== this.weightIndex.length || synapses.some((k, i) => k !== this.weightIndex![i]))) {
        throw new CinderArgumentError('synapses', describe(synapses), 'the synapses of the recording already started');
      }
    }
    if (!this.weightIndex || !this.wRows.length) this.weightIndex = synapses ? Int32Array.from(synapses) : Int32Array.from({ length: m }, (_, k) => k);
    this.weightEverySteps = Math.round(steps);
    this.weightStartStep = this.engine.stepCount;
    // a row at this time is there already (a second call without running in between): not twice
    if (this.wTimes.length === 0 || this.wTimes[this.wTimes.length - 1] !== this.timeMs) this.pushWeightRow();
  }

  /** The largest |w − ref| over all plastic synapses (no allocation). */
  weightDeviation(ref = 1): number {
    const e = this.engine;
    let worst = 0;
    for (const site of e.sites) {
      const w = site.weight;
      for (let k = 0; k < w.length; k++) {
        const d = Math.abs(w[k]! - ref);
        if (d > worst) worst = d;
      }
    }
    return worst;
  }

  /** Stops the weight recording (rows are kept). */
  stopRecordingWeights(): void {
    this.weightEverySteps = 0;
  }

  /** The weight rows recorded so far. */
  weightRecording(): WeightRecording {
    const index = this.weightIndex ?? new Int32Array(0);
    const m = index.length;
    const w = new Float32Array(this.wRows.length * m);
    this.wRows.forEach((row, i) => w.set(row, i * m));
    return { tMs: Float64Array.from(this.wTimes), w, synapses: m, index: Int32Array.from(index) };
  }

  /** Records spikes of every neuron in the following `run` chunks. */
  recordSpikes(on = true): void {
    this.spikesOn = on;
  }

  /** Records the (somatic) voltage of `gids` (default: all) in the following `run` chunks; `[]` stops. */
  recordVoltage(gids?: readonly number[]): void {
    const n = this.size;
    if (gids !== undefined && !Array.isArray(gids) && !ArrayBuffer.isView(gids)) throw new CinderArgumentError('gids', gids, 'an array of gids (or undefined for all)');
    const list = gids ?? Array.from({ length: n }, (_, i) => i);
    list.forEach((g, i) => {
      if (!Number.isInteger(g) || g < 0 || g >= n) throw new CinderArgumentError(`gids[${i}]`, g, `a gid in [0, ${n})`);
    });
    this.voltageGids = list.length ? Int32Array.from(list) : null;
  }

  /** Simulates `ms` (a whole number of steps, > 0) and returns that chunk's spikes and voltages. */
  run(ms: number): RunChunk {
    const e = this.engine;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) throw new CinderArgumentError('ms', ms, 'a duration > 0 ms');
    const steps = Math.round(ms / e.dt);
    if (Math.abs(steps * e.dt - ms) > 1e-9 * ms || steps < 1) throw new CinderArgumentError('ms', ms, `a whole number of steps (a multiple of ${e.dt} ms)`);
    const start = e.stepCount;
    this.chunkSpikeSteps = [];
    this.chunkSpikeGids = [];
    const vg = this.voltageGids;
    const voltage = new Float32Array(vg ? vg.length * steps : 0);
    const every = this.weightEverySteps;
    const perStep = vg !== null || every > 0;
    if (!perStep) e.run(steps);
    else {
      for (let k = 0; k < steps; k++) {
        e.run(1);
        if (vg) for (let j = 0; j < vg.length; j++) voltage[j * steps + k] = e.vSoma[vg[j]!]!;
        if (every > 0 && (e.stepCount - this.weightStartStep) % every === 0) this.pushWeightRow();
      }
    }
    const spikeTimes = Float32Array.from(this.chunkSpikeSteps, (s) => (s - start + 1) * e.dt);
    return { spikeTimes, spikeGids: Int32Array.from(this.chunkSpikeGids), voltageGids: vg ? Int32Array.from(vg) : new Int32Array(0), voltage, steps };
  }

  private pushWeightRow(): void {
    const e = this.engine;
    const index = this.weightIndex!;
    const row = new Float32Array(index.length);
    for (let k = 0; k < row.length; k++) row[k] = e.plasticWeight(index[k]!);
    this.wRows.push(row);
    this.wTimes.push(this.timeMs);
  }
}
