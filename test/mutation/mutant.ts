// One one-line bug that the suite must catch: see mutants.ts.

export interface Mutant {
  /** The rule the bug breaks, as a failing test would name it. */
  readonly rule: string
  readonly file: string
  /** Text that occurs exactly once in `file`, and what it becomes. */
  readonly from: string
  readonly to: string
  /** The test files that must fail with the mutant in place. */
  readonly tests: ReadonlyArray<string>
  /**
   * Set when those tests need a PostgreSQL server: without one (no DELTALOG_TEST_POSTGRES_URL,
   * and not under CI) they are skipped, so the mutant is reported skipped rather than run.
   */
  readonly needs?: 'postgres'
}
