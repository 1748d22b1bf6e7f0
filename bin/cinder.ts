#!/usr/bin/env node
/**
 * Entry point of the `cinder` command (package.json `bin`): registers the shipped examples, then
 * runs the command line.
 * @module
 */
import '../examples/index.js';
import { runCli } from '../src/cli/program.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
