// One row of the fault matrix in docs/faults.md: a fault, the storage it hits, what deltalog
// answers and how long it may take. Each row names the test that proves it; matrix.test.ts
// checks that the test exists and renders the rows into the docs.

export interface Fault {
  /** What goes wrong, as a user would say it. */
  readonly fault: string
  readonly storage: 'RocksDB' | 'PostgreSQL' | 'any'
  /** What deltalog answers: an error code (with the field that says more), or the result. */
  readonly answer: string
  /** The longest it may take to answer, as documented (a default the user can change says so). */
  readonly bound: string
  /** The test that proves the row: its file, and its name as written there. */
  readonly test: { readonly file: string; readonly name: string }
}
