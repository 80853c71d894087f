/**
 * What the writer shows of itself: each commit and each storage write published on the tracing
 * channels `deltalog:commit`, `deltalog:write` and `deltalog:sync` (src/diagnostics), and
 * recorded in the meter behind `log.metrics()`. Both wrap the writer from outside — a commit step
 * (`observeCommit`) and the store it writes to (`observeStorage`) — so that the steps in
 * commit.ts stay as they are. A channel no one subscribes to costs one check per commit or write:
 * no context is built.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { AppendRange } from '../delta/delta.js'
import type { Batch } from '../delta/batch.js'
import type { DeltalogErrorValue } from '../errors.js'
import { channelOf, isTraced, traceEither, type TraceContext } from '../diagnostics/channels.js'
import type { Storage, WriteOptions } from '../storage/port.js'
import type { Request, WriterCore } from './commit.js'
import type { Durability } from './options.js'
import type { Meter } from './metrics.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Who the writer reports to: the log's name on the channels and its meter. */
export interface Observer {
  /** The log: its directory, its PostgreSQL table, or `memory`. */
  readonly log: string
  readonly meter: Meter
}

/** `deltalog:commit`: one batch of the writer. */
export interface CommitContext extends TraceContext {
  readonly appends: number
  readonly records: number
  /** The appends' bytes, as counted against `maxPendingBytes`. */
  readonly bytes: number
  readonly durability: Durability
  /** Whether its batch was synced: set when it succeeded. */
  sync?: boolean
}

/** `deltalog:write`: one write of a batch to storage. */
export interface WriteContext extends TraceContext {
  readonly operations: number
  /** The keys' and values' bytes. */
  readonly bytes: number
  readonly sync: boolean
}

const commitChannel = channelOf('commit')
const writeChannel = channelOf('write')
const syncChannel = channelOf('sync')

// -------------------------------------------------------------------------------------
// commits
// -------------------------------------------------------------------------------------

/**
 * Runs one commit step over `group` (appends and flushes taken off the queue), publishing it on
 * `deltalog:commit` when it holds appends, and records it in the meter.
 */
export const observeCommit = async (
  core: WriterCore,
  group: Request[],
  commit: (core: WriterCore, group: ReadonlyArray<Request>) => Promise<void>,
): Promise<void> => {
  const { observer } = core.config
  if (observer === undefined) return commit(core, group)
  const { state } = core
  const started = performance.now()
  const before = state.allocator.nextSequence
  let appends = 0
  let records = 0
  let bytes = 0
  for (const r of group) {
    if (r.kind !== 'append') continue
    appends++
    records += r.records.keys.length
    bytes += r.bytes
  }
  if (appends > 0 && isTraced(commitChannel)) {
    const context: CommitContext = {
      log: observer.log,
      appends,
      records,
      bytes,
      durability: core.config.durability,
    }
    await traceEither(
      'commit',
      () => context,
      settledBy(core, group, commit),
      (ctx) => {
        ctx.sync = state.durableEnd >= state.allocator.nextSequence
      },
    )
  } else {
    await commit(core, group)
  }
  const { meter } = observer
  if (appends > 0 && state.allocator.nextSequence > before) {
    meter.commitLatency.record(performance.now() - started)
    meter.lastCommit = { appends, records, bytes, at: Date.now() }
  }
  // A sync clears it (see observeStorage); a commit left behind the durable watermark sets it.
  if (state.durableEnd >= state.allocator.nextSequence) meter.nonDurableSince = undefined
  else meter.nonDurableSince ??= started
}

/**
 * The commit step as an operation that resolves with the commit's range or its failure: the
 * first append's settlement says which (every append of a failed commit fails with the cause),
 * and the range runs from its start to the allocator's new end.
 * REQUIRES: `group` holds at least one append.
 */
const settledBy =
  (
    core: WriterCore,
    group: Request[],
    commit: (core: WriterCore, group: ReadonlyArray<Request>) => Promise<void>,
  ) =>
  async (): Promise<E.Either<DeltalogErrorValue, AppendRange>> => {
    let outcome: E.Either<DeltalogErrorValue, AppendRange> | undefined
    const at = group.findIndex((r) => r.kind === 'append')
    const first = group[at]
    if (first?.kind === 'append') {
      group[at] = {
        ...first,
        settle: (result: E.Either<DeltalogErrorValue, AppendRange>) => {
          outcome = result
          first.settle(result)
        },
      }
    }
    await commit(core, group)
    if (outcome === undefined || E.isLeft(outcome)) return outcome ?? E.right(emptyRange(core))
    const { startSequence } = outcome.right
    return E.right({ startSequence, count: core.state.allocator.nextSequence - startSequence })
  }

const emptyRange = (core: WriterCore): AppendRange => ({
  startSequence: core.state.allocator.nextSequence,
  count: 0,
})

// -------------------------------------------------------------------------------------
// storage writes
// -------------------------------------------------------------------------------------

/**
 * `storage` as the writer sees it: each write published on `deltalog:write` (or, with no data,
 * `deltalog:sync`), each synced one timed into the meter's sync latency. The rest is called
 * through, not copied, so that an adapter whose methods live on a prototype works the same.
 */
export const observeStorage = (storage: Storage, observer: Observer): Storage => ({
  capabilities: storage.capabilities,
  get: (key) => storage.get(key),
  getMany: (keys) => storage.getMany(keys),
  iterator: (options) => storage.iterator(options),
  close: () => storage.close(),
  write: (batch, options) => {
    const task = storage.write(batch, options)
    return async () => {
      const started = options.sync ? performance.now() : 0
      const empty = batch.length === 0
      const written = isTraced(empty ? syncChannel : writeChannel)
        ? await traceEither(
            empty ? 'sync' : 'write',
            () => writeContext(observer, batch, options),
            task,
          )
        : await task()
      if (options.sync && E.isRight(written)) {
        observer.meter.syncLatency.record(performance.now() - started)
        // A synced write makes everything written before it durable.
        observer.meter.nonDurableSince = undefined
      }
      return written
    }
  },
})

const writeContext = (observer: Observer, batch: Batch, options: WriteOptions): WriteContext => {
  let bytes = 0
  for (const op of batch) bytes += op.key.length + (op.type === 'put' ? op.value.length : 0)
  return { log: observer.log, operations: batch.length, bytes, sync: options.sync }
}
