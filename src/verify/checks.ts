/**
 * The checks `verifyStorage` runs over entries whose meaning belongs to a layer above the log.
 * verify knows the log's format and nothing of what its entries mean; a layer that does (the
 * event store) registers a check here when its module loads, so verify never imports it and
 * the dependency points up, from that layer to verify.
 */

/** A check of the entries of every key under `prefix`, run only in a store that holds `marker`. */
export interface EntryCheck {
  /** Names the check; registering another with the same name replaces it. */
  readonly name: string
  /** A key whose entries say the store holds such records at all (the event store's marker). */
  readonly marker: Uint8Array
  /** The prefix of the keys whose entries are checked. */
  readonly prefix: Uint8Array
  /**
   * A checker for the entries of one key, called with each value in sequence order from the
   * truncation point on. It returns what is wrong with an entry — words that follow "entry N of
   * key K", such as `is not an event: …` — or undefined.
   */
  readonly forKey: (truncatedBefore: number) => (value: Uint8Array) => string | undefined
}

const registered = new Map<string, EntryCheck>()

/** Adds a check to every later `verifyStorage` (replacing one of the same name). */
export const registerEntryCheck = (check: EntryCheck): void => {
  registered.set(check.name, check)
}

/** The checks registered so far. */
export const entryChecks = (): ReadonlyArray<EntryCheck> => [...registered.values()]
