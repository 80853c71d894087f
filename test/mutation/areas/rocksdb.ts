// Mutants of the RocksDB adapter: corruption, opening, key listing.
import type { Mutant } from '../mutant.js'

export const mutants: ReadonlyArray<Mutant> = []
