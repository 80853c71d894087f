/**
 * Recovery: what a log starts from when it opens — the SeqBlock, the truncation and the end of
 * the commit chain, as stored — and the first step of a new log (its format marker). A reader
 * reads the same state again whenever its store tells of a change (refresh.ts).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { ChainLink } from '../codec/commit.js'
import { FORMAT_VERSION, seqBlockKey, formatKey } from '../codec/records.js'
import { errorValueOf, migrationNeeded, type DeltalogErrorValue } from '../errors.js'
import { decodeSeqBlock, type SeqBlock } from '../sequence/seqBlock.js'
import type { Storage } from '../storage/port.js'
import { storedFormat, type StoredFormat } from '../format/detect.js'
import { lastLink } from './read.js'
import {
  decodeTruncation,
  NO_TRUNCATION,
  truncationKey,
  type Truncation,
} from '../codec/truncation.js'

/** A log's state as stored. */
export interface StoredState {
  readonly block: O.Option<SeqBlock>
  readonly truncation: Truncation
  readonly link: ChainLink
}

/**
 * What a reopened log starts from: the SeqBlock, the truncation and the chain's end. A store in
 * format 1 is refused with `MIGRATION_NEEDED`; an empty one becomes a format 2 log, unless it is
 * opened to read only.
 */
export const readStoredState = (
  storage: Storage,
  readOnly: boolean,
): TE.TaskEither<DeltalogErrorValue, StoredState> =>
  pipe(
    (): Promise<E.Either<DeltalogErrorValue, StoredFormat>> => storedFormat(storage),
    TE.chainW((format): TE.TaskEither<DeltalogErrorValue, void> => {
      if (format.format === 1) {
        return TE.left(
          migrationNeeded(
            'the log is in on-disk format 1, which this version reads only to convert it: run `deltalog migrate --db DIR` once (or migrateLog on this storage)',
          ),
        )
      }
      return format.format === 'empty' && !readOnly
        ? storage.write([{ type: 'put', key: formatKey, value: Uint8Array.of(FORMAT_VERSION) }], {
            sync: true,
          })
        : TE.right(undefined)
    }),
    TE.chainW(() => readState(storage)),
  )

/**
 * Whether a log's writer would refuse the store, read without writing: format 1 is
 * `MIGRATION_NEEDED`, a damaged state `CORRUPTION`. A directory's writable open asks it first, on
 * a read-only view, since RocksDB rewrites files as it opens a database to write.
 */
export const refusesToWrite = (view: Storage): TE.TaskEither<DeltalogErrorValue, void> =>
  TE.map(() => undefined)(readStoredState(view, true))

/** The SeqBlock, the truncation and the chain's end, as stored now. */
export const readState = (storage: Storage): TE.TaskEither<DeltalogErrorValue, StoredState> =>
  pipe(
    storage.getMany([seqBlockKey, truncationKey]),
    TE.chainEitherKW(([block, truncation]) =>
      pipe(
        E.Do,
        E.bind('block', () =>
          block === undefined || O.isNone(block)
            ? E.right(O.none)
            : E.map((b: SeqBlock) => O.some(b))(decodeSeqBlock(block.value)),
        ),
        E.bind('truncation', () =>
          truncation === undefined || O.isNone(truncation)
            ? E.right(NO_TRUNCATION)
            : decodeTruncation(truncation.value),
        ),
      ),
    ),
    TE.chainW((state) =>
      TE.tryCatch(
        async () => {
          // A truncation may have removed every commit: the chain then goes on from its anchor.
          const last = await lastLink(storage)
          return {
            ...state,
            link: last.end < state.truncation.anchor.end ? state.truncation.anchor : last,
          }
        },
        (error) => errorValueOf(error),
      ),
    ),
  )
