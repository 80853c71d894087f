/**
 * Range checks over raw byte keys, shared by the adapters that walk an in-process ordered
 * structure (memory, crash-simulating) and by tests.
 */
import { compareBytes } from '../codec/bytes.js'
import type { IterateOptions } from './port.js'

/** Whether `key` is at or past the range's lower bound. */
export const aboveLower = (options: IterateOptions, key: Uint8Array): boolean =>
  options.gte !== undefined
    ? compareBytes(key, options.gte) >= 0
    : options.gt !== undefined
      ? compareBytes(key, options.gt) > 0
      : true

/** Whether `key` is at or before the range's upper bound. */
export const belowUpper = (options: IterateOptions, key: Uint8Array): boolean =>
  options.lte !== undefined
    ? compareBytes(key, options.lte) <= 0
    : options.lt !== undefined
      ? compareBytes(key, options.lt) < 0
      : true

/** Whether `key` lies inside the range's bounds. */
export const inRange = (options: IterateOptions, key: Uint8Array): boolean =>
  aboveLower(options, key) && belowUpper(options, key)
