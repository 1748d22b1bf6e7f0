#!/usr/bin/env node
/**
 * Entry point of the `cinder` command (package.json `bin`): registers the shipped examples, then
 * runs the command line.
 * @module
 */
import '../examples/index.js';
import { runCli } from '../src/cli/program.js';
import { whenPipeCloses } from '../src/cli/closed-pipe.js';

// A reader that stops early would otherwise crash the command and leave a run half-done, its
// summary still "running". Output to a closed pipe is dropped instead; the run goes on, and its
// run folder (log.txt included) keeps everything.
whenPipeCloses(process.stdout);
whenPipeCloses(process.stderr);

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
