export * from './batch-reduction.js';
export * from './spiking-module.js';
export * from './neuron-group.js';
export * from './linear-membrane.js';
export * from './lif.js';
export * from './adaptive-threshold-neuron.js';
export * from './alif.js';
export * from './glif2.js';
export * from './quadratic-membrane.js';
export * from './exponential-membrane.js';
export * from './euler-neuron.js';
export * from './qif.js';
export * from './eif.js';
export * from './adaptive-current-neuron.js';
export * from './izhikevich.js';
export * from './adex.js';
export * from './exact-neuron.js';

import { markCheckedStep } from '../../core/checked-step.js';
import { LIF } from './lif.js';
import { ALIF } from './alif.js';
import { GLIF2 } from './glif2.js';
import { QIF } from './qif.js';
import { EIF } from './eif.js';
import { Izhikevich } from './izhikevich.js';
import { AdEx } from './adex.js';
import { ExactNeuron } from './exact-neuron.js';
// the built-in models check their inputs before stepping (see core/checked-step.ts)
markCheckedStep(LIF, ALIF, GLIF2, QIF, EIF, Izhikevich, AdEx, ExactNeuron);
