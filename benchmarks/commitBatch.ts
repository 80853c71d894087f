// What one commit of N producers writes: the batch a writer hands to storage when N single-record
// appends arrive together, recorded from a log on a storage that notes every write. The ceiling
// replays batches of the same shape on the raw addon, and the format comparison counts each
// format's operations and bytes per commit from it — figures that no noise on the machine moves.

/** One put of a recorded batch: its key's and value's sizes. */
export interface PutShape {
  readonly keyBytes: number
  readonly valueBytes: number
}

/** A commit's batch: its puts (and deletes, counted) in order. */
export interface CommitShape {
  readonly producers: number
  readonly puts: ReadonlyArray<PutShape>
  readonly deletes: number
  /** Keys and values of every operation. */
  readonly bytes: number
}

interface Op {
  readonly type: 'put' | 'del'
  readonly key: Uint8Array
  readonly value?: Uint8Array
}

/** The shape of a batch as a storage receives it. */
export const shapeOf = (producers: number, batch: ReadonlyArray<Op>): CommitShape => {
  const puts = batch
    .filter((op) => op.type === 'put')
    .map((op) => ({ keyBytes: op.key.length, valueBytes: op.value?.length ?? 0 }))
  return {
    producers,
    puts,
    deletes: batch.length - puts.length,
    bytes: batch.reduce((sum, op) => sum + op.key.length + (op.value?.length ?? 0), 0),
  }
}

/** What recording needs of a deltalog build: its `openLog` and its memory storage. */
export interface LogModule {
  readonly openLog: (options: { storage: unknown; durability: 'sync' }) => Promise<{
    readonly append: (
      records: ReadonlyArray<{ key: string; value: Uint8Array }>,
    ) => Promise<unknown>
    readonly close: () => Promise<void>
  }>
  /** A Promise today; format 1's returned the storage itself. */
  readonly openMemoryStorage: () => unknown
}

interface Writable {
  readonly write: (batch: ReadonlyArray<Op>, options: { readonly sync: boolean }) => unknown
}

/**
 * Runs `run` on a log of `module` over its memory storage, with every batch written noted in
 * `writes` (which `run` may empty); `round` issues `producers` appends of `value`, each under a
 * key of its own, in one turn and awaits them all.
 */
export const withNotedWrites = async <A>(
  module: LogModule,
  producers: number,
  value: Uint8Array,
  run: (round: () => Promise<unknown>, writes: Array<ReadonlyArray<Op>>) => Promise<A>,
): Promise<A> => {
  const storage = (await module.openMemoryStorage()) as Writable
  const writes: Array<ReadonlyArray<Op>> = []
  const noting: Writable = {
    ...storage,
    write: (batch, options) => {
      writes.push(batch)
      return storage.write(batch, options)
    },
  }
  const log = await module.openLog({ storage: noting, durability: 'sync' })
  const round = () =>
    Promise.all(
      Array.from({ length: producers }, (_, p) => log.append([{ key: `producer-${p}`, value }])),
    )
  try {
    return await run(round, writes)
  } finally {
    await log.close()
  }
}

/**
 * The batch of one group commit of `producers` appends, each of one `value` under a key of its
 * own: the appends are issued in one turn, after one such round has run (which writes what a new
 * log writes once). Fails if the round took more than one write: then it was not one commit.
 */
export const recordCommit = async (
  module: LogModule,
  producers: number,
  value: Uint8Array,
): Promise<CommitShape> => {
  // The close writes too; what it writes is not the commit's, so the writes are taken before.
  const seen = await withNotedWrites(module, producers, value, async (round, writes) => {
    await round()
    writes.length = 0
    await round()
    return [...writes]
  })
  const [batch, ...more] = seen
  if (batch === undefined || more.length > 0) {
    throw new Error(`${producers} appends took ${seen.length} writes, not one commit`)
  }
  return shapeOf(producers, batch)
}
