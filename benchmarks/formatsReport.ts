// What `npm run bench:formats` (formats.ts) writes to results/formats.json, and the section of
// docs/benchmarks.md that shows it: the batch one commit of each format writes, counted (no
// noise moves it), and, once measured on a quiet machine, both writers' group commit against
// one synced put at a time in the same process, on the same addon.
import { formatNumber, type Summary } from './measure.js'

/** One format's commit of `producers` single-record appends, counted from its batch. */
export interface FormatProfile {
  readonly format: 1 | 2
  readonly producers: number
  readonly puts: number
  readonly deletes: number
  /** Keys and values of every operation. */
  readonly bytes: number
}

/** The timed comparison: appends/s of each writer and of the raw baseline, and their ratios. */
export interface FormatsTimed {
  readonly date: string
  /** 1-minute load average at the start and the end. */
  readonly load: readonly [number, number]
  readonly producers: number
  readonly appendsPerRound: number
  readonly rounds: number
  readonly format1: Summary
  readonly format2: Summary
  readonly raw: Summary
  /** Per round: each format over the round's raw baseline, and format 2 over format 1. */
  readonly format1Ratio: Summary
  readonly format2Ratio: Summary
  readonly format2OverFormat1: Summary
  /** CPU µs per commit of `producers` appends on a memory storage (its inserts included). */
  readonly engineCpu: { readonly format1: Summary; readonly format2: Summary }
  /** CPU µs per unsynced raw batch of each format's commit: the addon's part of a write. */
  readonly addonCpu: { readonly format1: Summary; readonly format2: Summary }
}

export interface FormatsResult {
  /** The last commit whose writer wrote format 1. */
  readonly format1Commit: string
  readonly profiledOn: string
  readonly profile: ReadonlyArray<FormatProfile>
  readonly timed?: FormatsTimed
}

const range = (s: Summary, digits = 2): string =>
  `**${s.median.toFixed(digits)}×** (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`

const summary = (s: Summary): string =>
  `${formatNumber(s.median)} (${formatNumber(s.min)}–${formatNumber(s.max)})`

const profileTable = (profile: ReadonlyArray<FormatProfile>): ReadonlyArray<string> => {
  const counts = [...new Set(profile.map((p) => p.producers))].sort((a, b) => a - b)
  return [
    '| producers | format 1: puts | format 1: bytes | format 2: puts | format 2: bytes | bytes, 2 ÷ 1 |',
    '| --- | --- | --- | --- | --- | --- |',
    ...counts.flatMap((n) => {
      const one = profile.find((p) => p.producers === n && p.format === 1)
      const two = profile.find((p) => p.producers === n && p.format === 2)
      if (one === undefined || two === undefined) return []
      return [
        `| ${n} | ${one.puts.toLocaleString('en-US')} | ${one.bytes.toLocaleString('en-US')} | ` +
          `${two.puts.toLocaleString('en-US')} | ${two.bytes.toLocaleString('en-US')} | ` +
          `${(two.bytes / one.bytes).toFixed(2)}× |`,
      ]
    }),
  ]
}

const timedLines = (t: FormatsTimed): ReadonlyArray<string> => [
  `Measured on ${t.date} (load average ${t.load[0].toFixed(2)} at the start, ${t.load[1].toFixed(2)} at the end): ` +
    `${t.rounds} rounds of ${t.appendsPerRound.toLocaleString('en-US')} appends from ${t.producers} producers for each writer, ` +
    'and one synced put at a time on the raw addon; the order of the three alternates from round to round.',
  '',
  '| side | appends/s, median (min–max) | over one synced put at a time |',
  '| --- | --- | --- |',
  `| format 1's writer | ${summary(t.format1)} | ${range(t.format1Ratio, 1)} |`,
  `| format 2's writer (today's) | ${summary(t.format2)} | ${range(t.format2Ratio, 1)} |`,
  `| rocksdb binding, one put at a time, sync: true | ${summary(t.raw)} | — |`,
  '',
  `Format 2's writer over format 1's, round by round: ${range(t.format2OverFormat1)}.`,
  '',
  `Where a commit of ${t.producers} appends spends CPU, in µs (this process's user and system time, ` +
    'medians of the rounds): the engine committing to a memory storage (whose own inserts are ' +
    "included, each build's own), and the addon writing the format's batch unsynced; the fsync, " +
    'one per commit, is the same in both.',
  '',
  '| part | format 1 | format 2 |',
  '| --- | --- | --- |',
  `| the engine on a memory storage, per commit | ${summary(t.engineCpu.format1)} | ${summary(t.engineCpu.format2)} |`,
  `| the addon's write of the batch | ${summary(t.addonCpu.format1)} | ${summary(t.addonCpu.format2)} |`,
]

/** The key of the section's reading, written by hand, in benchmarks/explanations.json. */
export const FORMATS_EXPLANATION = 'formats: group commit'

/**
 * The section, or nothing when no profile was written; `why` (paragraphs written by hand) follows
 * the timed comparison.
 */
export const renderFormats = (
  formats: FormatsResult | undefined,
  why: ReadonlyArray<string> = [],
): ReadonlyArray<string> =>
  formats === undefined
    ? []
    : [
        '',
        '## Format 1 against format 2: group commit',
        '',
        `\`npm run bench:formats\` (\`benchmarks/formats.ts\`) runs the writer of commit ` +
          `\`${formats.format1Commit.slice(0, 7)}\`, the last that wrote format 1, beside today's, in one ` +
          'process on the same addon. What one commit of N single-record appends (100-byte values, a ' +
          `key per producer) writes, counted from each writer's batch on ${formats.profiledOn.slice(0, 10)}:`,
        '',
        ...profileTable(formats.profile),
        '',
        'Format 1 writes one put per entry (its value, under its entry key) and one commit-index ' +
          'record naming the runs of keys; format 2 writes the commit record, which holds every value of the commit ' +
          'with the chain checksum, and one run record per key, which keeps a run of up to 1 KiB ' +
          'inline: with a key per producer each value is written twice, once in the commit record ' +
          'and once in its run record. The number of puts is the same; the bytes are not.',
        '',
        ...(formats.timed === undefined
          ? [
              '**The timed comparison is not yet measured**: it needs a quiet machine. Run ' +
                '`npm run bench:formats` (about a minute) and `npm run bench -- --render`.',
            ]
          : timedLines(formats.timed)),
        ...why.flatMap((paragraph) => ['', paragraph]),
      ]
