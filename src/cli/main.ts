#!/usr/bin/env node
/**
 * Entry point of the `cinder` command (package.json `bin`).
 * @module
 */
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
