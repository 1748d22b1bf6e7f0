/**
 * The examples the `cinder` command knows. `src/` hard-codes none: each example folder exports an
 * {@link ExampleSpec}, and `examples/index.ts` registers them here (the `cinder` entry point imports it).
 * @module
 */
import type { ExampleSpec } from './example.js';

const registered: ExampleSpec[] = [];

/** Adds `spec` to the examples `cinder list` shows; a second example with the same name is an error. */
export function registerExample(spec: ExampleSpec): void {
  if (registered.some((e) => e.name === spec.name)) {
    throw new Error(`invalid example: got a second example named "${spec.name}", expected unique names`);
  }
  registered.push(spec);
}

/** All registered examples, in registration order (the order `cinder list` shows them). */
export function registeredExamples(): readonly ExampleSpec[] {
  return registered;
}

/** The example named `name`, or undefined. */
export function findExample(name: string, examples: readonly ExampleSpec[] = registered): ExampleSpec | undefined {
  return examples.find((e) => e.name === name);
}
