// Mutants of the writer and readers, and the event store.
import type { Mutant } from '../mutant.js'

export const mutants: ReadonlyArray<Mutant> = []
