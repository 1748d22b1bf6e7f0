/**
 * The examples the `cinder` command knows. Each lives in the top-level `examples/` folder and
 * exports an {@link ExampleSpec}.
 * @module
 */
import type { ExampleSpec } from './example.js';
import { epropEvidenceExample } from '../../examples/eprop-evidence.js';
import { lifDemoExample } from '../../examples/lif-demo.js';
import { florianExample } from '../../examples/florian.js';
import { song2000Example } from '../../examples/song2000.js';
import { quickstartExample } from '../../examples/quickstart.js';

/** All registered examples, in the order `cinder list` shows them. */
export const EXAMPLES: readonly ExampleSpec[] = [lifDemoExample, florianExample, song2000Example, quickstartExample, epropEvidenceExample];

/** The example named `name`, or undefined. */
export function findExample(name: string, examples: readonly ExampleSpec[] = EXAMPLES): ExampleSpec | undefined {
  return examples.find((e) => e.name === name);
}
