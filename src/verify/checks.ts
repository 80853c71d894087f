/**
 * The checks `verifyStorage` runs over entries whose meaning belongs to a layer above the log.
 * verify knows the log's format and nothing of what its entries mean; a layer that does (the
 * event store) registers a check here when its module loads, so verify never imports it and
 * the dependency points up, from that layer to verify.
 */

/** What a check says of one entry, given its value and sequence: words that follow "entry N of key K". */
export type EntryChecker = (value: Uint8Array, sequence: number) => string | undefined

/** One verification's run of a check. */
export interface CheckRun {
  /**
   * The checker for the entries of `key`, called with each in sequence order from the
   * truncation point on — or undefined for a key the check does not concern.
   */
  readonly forKey: (key: Uint8Array) => EntryChecker | undefined
  /** What is wrong across keys, once every key was seen. */
  readonly end: () => ReadonlyArray<string>
}

/** A check of entries, run only in a store that holds `marker`. */
export interface EntryCheck {
  /** Names the check; registering another with the same name replaces it. */
  readonly name: string
  /** A key whose entries say the store holds such records at all (the event store's marker). */
  readonly marker: Uint8Array
  /** Starts the check for one verification of a store truncated before `truncatedBefore`. */
  readonly start: (truncatedBefore: number) => CheckRun
}

const startsWith = (bytes: Uint8Array, prefix: Uint8Array): boolean =>
  bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b)

/**
 * A check of the entries of each key under `prefix`, one key at a time: `forKey` makes the
 * checker of one key, called with each value in sequence order from the truncation point on,
 * returning what is wrong with an entry — such as `is not an event: …` — or undefined.
 */
export const prefixCheck = (check: {
  readonly name: string
  readonly marker: Uint8Array
  readonly prefix: Uint8Array
  readonly forKey: (truncatedBefore: number) => EntryChecker
}): EntryCheck => ({
  name: check.name,
  marker: check.marker,
  start: (truncatedBefore) => ({
    forKey: (key) => (startsWith(key, check.prefix) ? check.forKey(truncatedBefore) : undefined),
    end: () => [],
  }),
})

const registered = new Map<string, EntryCheck>()

/** Adds a check to every later `verifyStorage` (replacing one of the same name). */
export const registerEntryCheck = (check: EntryCheck): void => {
  registered.set(check.name, check)
}

/** The checks registered so far. */
export const entryChecks = (): ReadonlyArray<EntryCheck> => [...registered.values()]
