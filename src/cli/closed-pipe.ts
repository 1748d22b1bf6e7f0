/**
 * Output streams whose reader has gone (`cinder list | head -3`, a closed terminal): every write
 * then fails with EPIPE (or ERR_STREAM_DESTROYED after the first), emitted as an 'error' event that
 * would crash the process with a stack trace. Node-only.
 * @module
 */

/** Whether a stream error means only that the reader has closed the pipe. */
export function isClosedPipe(e: NodeJS.ErrnoException): boolean {
  return e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED';
}

/**
 * Calls `onClosed` (default: nothing, the output is dropped) when `stream`'s reader closes the
 * pipe; any other stream error is thrown as before.
 */
export function whenPipeCloses(stream: NodeJS.WritableStream, onClosed: () => void = () => {}): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (!isClosedPipe(e)) throw e;
    onClosed();
  });
}
