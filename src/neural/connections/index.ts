export * from './initializers.js';
export * from './connection.js';
export * from './linear-dense.js';
export * from './linear-direct.js';
export * from './masked-linear.js';
export * from './linear-lateral.js';
export * from './conv2d.js';
export * from './topography.js';
export * from './sparse-topology.js';
export * from './sparse-linear.js';
export * from './post-filter.js';

import { markCheckedStep } from '../../core/checked-step.js';
import { LinearDense } from './linear-dense.js';
import { LinearDirect } from './linear-direct.js';
import { MaskedLinear } from './masked-linear.js';
import { LinearLateral } from './linear-lateral.js';
import { Conv2D } from './conv2d.js';
import { SparseLinear } from './sparse-linear.js';
// the built-in connections check their inputs before their synapse advances (see core/checked-step.ts)
markCheckedStep(LinearDense, LinearDirect, MaskedLinear, LinearLateral, Conv2D, SparseLinear);
