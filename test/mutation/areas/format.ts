// Mutants of the codecs, verification and truncation of format 2.
import type { Mutant } from '../mutant.js'

export const mutants: ReadonlyArray<Mutant> = []
