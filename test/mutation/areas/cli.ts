// Mutants of the command line: imports, appends, verify.
import type { Mutant } from '../mutant.js'

export const mutants: ReadonlyArray<Mutant> = []
