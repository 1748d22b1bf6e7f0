/**
 * Local learning rules (trainers) and the pieces for writing new ones: the {@link CellTrainer}
 * base, the trace-monitor builder {@link PairTraces}, the sign split {@link splitBySign}, the receptive
 * contraction {@link ReceptiveContraction} and reward {@link Modulation}.
 * @module
 */
export * from './stdp-checks.js';
export * from './pair-trace-trainer.js';
export * from './stdp.js';
export * from './mstdp.js';
export * from './mstdpet.js';
export * from './batch-reduce.js';
export * from './kernels.js';
export * from './spike-time-trainer.js';
export * from './kernel-stdp.js';
export * from './delay-adjusted-stdp.js';
export * from './triplet-stdp.js';
export * from './linear-homeostasis.js';
export * from './voltage-stdp.js';
