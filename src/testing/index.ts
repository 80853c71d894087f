/**
 * deltalog/testing: the crash-simulation toolkit. A crash-simulating Storage adapter to run
 * deltalog — or any code written against the Storage port — through simulated process kills,
 * power losses and I/O faults, reproducibly from a seed; and `checkProjection`, a property test
 * that crash-tests a projection or consumer written on the event store. See docs/crash-testing.md.
 */
export {
  openCrashStorage,
  type CrashMode,
  type CrashStorage,
  type CrashStorageOptions,
  type FaultKind,
  type WrittenBatch,
} from './crashStorage.js'
export { makeRandom, type Random } from './random.js'
export {
  checkProjection,
  type CheckProjectionOptions,
  type CustomConsumerUnderTest,
  type CustomProjectionUnderTest,
  type InlineConsumerUnderTest,
  type InlineProjectionUnderTest,
  type ProjectionUnderTest,
  type SavedProjection,
  type StreamAppend,
} from './checkProjection.js'
