export * from './combine.js';
export * from './cell.js';
export * from './layer.js';
export * from './serial.js';
export * from './biclique.js';
export * from './recurrent-layer.js';
