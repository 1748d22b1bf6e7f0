export * from './synapse.js';
export * from './delta.js';
export * from './exponential.js';
export * from './double-exponential.js';

import { markCheckedStep } from '../../core/checked-step.js';
import { DeltaCurrent, DeltaPlusCurrent, DeltaConductance } from './delta.js';
import { SingleExponentialCurrent, ExponentialConductance } from './exponential.js';
import { DoubleExponentialCurrent, DoubleExponentialConductance } from './double-exponential.js';
// the built-in synapses check their input before their history ring advances (see core/checked-step.ts)
markCheckedStep(DeltaCurrent, DeltaPlusCurrent, DeltaConductance, SingleExponentialCurrent, ExponentialConductance, DoubleExponentialCurrent, DoubleExponentialConductance);
