#!/usr/bin/env node
// After `tsc` (`npm run build`, run by `npm install` through `prepare`): make every `bin` target of
// package.json executable. npm sets this mode when it installs the package from the registry, but
// not in a checkout, where tsc writes dist/bin/cinder.js as a plain file and `npx cinder …` (the
// README's command) fails with "Permission denied".
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {});
for (const file of bins) {
  if (!existsSync(file)) {
    console.error(`invalid bin target: got ${file} (missing after the build), expected a file that tsc writes`);
    process.exit(1);
  }
  chmodSync(file, statSync(file).mode | 0o111);
}
