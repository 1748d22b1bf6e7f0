#!/usr/bin/env node
/**
 * Entry point of the `cinder` command (package.json `bin`): registers the shipped examples, then
 * runs the command line.
 * @module
 */
import '../examples/index.js';
import { runCli } from '../src/cli/program.js';

// A reader that stops early (`cinder list | head -3`, a closed terminal) closes the pipe, and every
// later write fails with EPIPE, emitted as an 'error' event that would crash the process with a
// stack trace (a run left half-done, its summary still "running"). Output to a closed pipe is
// dropped instead; the run goes on, and its run folder (log.txt included) keeps everything.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
