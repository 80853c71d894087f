// Fault-matrix rows for the rocksdb area (see ../fault.ts).
import type { Fault } from '../fault.js'

export const faults: ReadonlyArray<Fault> = []
