// `cinder` with one more example, `empty` (does nothing), for the sweep overhead bench.
import '../examples/index.js';
import { registerExample, registeredExamples, type ExampleSpec } from '../src/cli/index.js';
import { runCli } from '../src/cli/program.js';

const empty: ExampleSpec = {
  name: 'empty',
  description: 'does nothing (bench of per-run overhead)',
  options: [{ name: 'value', type: 'int', description: 'unused', default: 0 }],
  presets: { tiny: {} },
  defaultMode: 'tiny',
  summaryKeys: ['value'],
  figures: [],
  async run(ctx) {
    return { value: Number(ctx.params.value) };
  },
};
if (!registeredExamples().some((e) => e.name === 'empty')) registerExample(empty);
process.exitCode = await runCli(process.argv.slice(2));
