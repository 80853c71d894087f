// Every row of the fault matrix, from each area's list in rows/, and how docs/faults.md shows it.
import type { Fault } from './fault.js'
import { faults as cli } from './rows/cli.js'
import { faults as consumers } from './rows/consumers.js'
import { faults as eventindex } from './rows/eventindex.js'
import { faults as dcb } from './rows/dcb.js'
import { faults as format } from './rows/format.js'
import { faults as postgres } from './rows/postgres.js'
import { faults as reads } from './rows/reads.js'
import { faults as readonly } from './rows/readonly.js'
import { faults as rocksdb } from './rows/rocksdb.js'

export const faults: ReadonlyArray<Fault> = [
  ...rocksdb,
  ...postgres,
  ...cli,
  ...format,
  ...reads,
  ...readonly,
  ...eventindex,
  ...dcb,
  ...consumers,
]

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ')
const sentence = (text: string): string => cell(text.charAt(0).toUpperCase() + text.slice(1))

/** The matrix as a Markdown table (before Prettier aligns it). */
export const renderMatrix = (rows: ReadonlyArray<Fault>): string =>
  [
    '| fault | storage | answer | bound | test |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${sentence(r.fault)} | ${r.storage} | ${cell(r.answer)} | ${sentence(r.bound)} | ` +
        `[${cell(r.test.name)}](../${r.test.file}) |`,
    ),
  ].join('\n')
