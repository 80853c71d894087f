/**
 * Database handles the RocksDB adapter cannot close. A native iterator whose first step failed
 * on a damaged table can never be ended (see rocksdbIterator.ts), and RocksDB aborts the process
 * when a database is deleted while an iterator holds it — on a close, when the handle is
 * garbage-collected, and when Node.js finalizes native objects as the process exits. So such a
 * handle is kept here for the life of the process, and the process exits before that
 * finalization: the last thing done on `exit` is `process.exit`, which skips it.
 */

// Referenced for the life of the process, so that the garbage collector never finalizes them.
const parked: object[] = []

/** Keeps `handle` open until the process exits, and has it exit without finalizing it. */
export const park = (handle: object): void => {
  if (parked.length === 0) process.on('exit', exitBeforeFinalizing)
  parked.push(handle)
}

// Runs the `exit` listeners added after this one (process.exit from a listener skips them),
// then exits at once: the exit code stays what it was.
const exitBeforeFinalizing = (code: number): void => {
  const listeners = process.listeners('exit')
  for (const later of listeners.slice(listeners.indexOf(exitBeforeFinalizing) + 1)) {
    later.call(process, code)
  }
  process.exit(code)
}
