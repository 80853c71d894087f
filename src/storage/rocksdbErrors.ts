/**
 * Calls into the RocksDB addon as values: a native error becomes the storage error its message
 * says (RocksDB reports every failure as a `Status` string), and a callback call becomes a
 * Promise of an Either that never rejects.
 */
import * as E from 'fp-ts/lib/Either.js'
import {
  corruption,
  invalidArgument,
  ioError,
  locked,
  readOnly,
  type StorageError,
} from '../errors.js'
import type { Callback } from './binding.js'

// RocksDB's own words for a lock another handle holds (env/fs_posix.cc, LockFile): fcntl says
// EAGAIN or EACCES when another process holds it; "lock hold by current process" when this one
// does. Nothing else is a lock conflict; a read-only file system fails earlier, in open().
const LOCK_CONFLICT =
  /^IO error: (lock hold by current process|While lock file: .*: (Resource temporarily unavailable|Permission denied))/
const READ_ONLY_FAILURE = /: (Read-only file system|Permission denied)$/

/** Maps a native error to a storage error, keeping it as the cause. */
export const fromNative = (what: string, error: Error): StorageError => {
  const message = `${what}: ${error.message}`
  if (LOCK_CONFLICT.test(error.message)) return locked(message, error)
  if (error.message.startsWith('IO error') && READ_ONLY_FAILURE.test(error.message)) {
    return readOnly(message, error)
  }
  if (error.message.startsWith('Corruption')) return { ...corruption(message), cause: error }
  if (error.message.startsWith('Invalid argument')) {
    return { ...invalidArgument(what, error.message), cause: error }
  }
  return ioError(message, error)
}

/** What was thrown, as an Error. */
export const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error))

/** One call of the addon, its callback's error mapped; a synchronous throw is a `left` too. */
export const call = <A>(
  what: string,
  run: (callback: Callback<A>) => void,
): Promise<E.Either<StorageError, A | undefined>> =>
  new Promise((resolve) => {
    try {
      run((error, result) => resolve(error ? E.left(fromNative(what, error)) : E.right(result)))
    } catch (error) {
      resolve(E.left(fromNative(what, asError(error))))
    }
  })
