// Mutants of the PostgreSQL adapter: ownership, names, privileges, time limits, durability.
import type { Mutant } from '../mutant.js'

export const mutants: ReadonlyArray<Mutant> = []
