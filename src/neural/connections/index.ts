export * from './initializers.js';
export * from './connection.js';
export * from './linear-dense.js';
export * from './linear-direct.js';
export * from './masked-linear.js';
export * from './linear-lateral.js';
export * from './conv2d.js';
export * from './topography.js';
