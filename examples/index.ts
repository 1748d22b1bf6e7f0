/**
 * The examples shipped with Cinder, registered with the `cinder` command. A new example is a folder
 * `examples/<name>/` whose `index.ts` exports an `ExampleSpec`, added to the list below.
 * @module
 */
import { registerExample, registeredExamples, type ExampleSpec } from '../src/cli/index.js';
import { lifDemoExample } from './lif-demo/index.js';
import { florianExample } from './florian/index.js';
import { song2000Example } from './song2000/index.js';
import { quickstartExample } from './quickstart/index.js';
import { epropEvidenceExample } from './eprop-evidence/index.js';
import { livnStdpExample } from './livn-stdp/index.js';
import { lateralLineExample } from './lateral-line/index.js';
import { cobaExample } from './coba/index.js';

const SHIPPED: readonly ExampleSpec[] = [
  lifDemoExample,
  florianExample,
  song2000Example,
  quickstartExample,
  epropEvidenceExample,
  livnStdpExample,
  lateralLineExample,
  cobaExample,
];
for (const spec of SHIPPED) if (!registeredExamples().includes(spec)) registerExample(spec);

/** All shipped examples, in the order `cinder list` shows them. */
export const EXAMPLES: readonly ExampleSpec[] = registeredExamples();
