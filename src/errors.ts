/**
 * Errors as values. Every failure deltalog can report is a plain readonly object whose `code`
 * is a stable string catalogued in docs/errors.md; pure modules return them in an `Either`,
 * effectful ones in a `TaskEither`. Nothing in the core throws.
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Stored bytes could not be decoded: the database holds something deltalog never wrote. */
export interface CorruptionError {
  readonly code: 'CORRUPTION'
  readonly message: string
}

/** A sequence number would leave the range of safe JavaScript integers (2^53 − 1). */
export interface SequenceOverflowError {
  readonly code: 'SEQUENCE_OVERFLOW'
  readonly message: string
}

/** A caller passed a value outside what the operation accepts; `field` names it. */
export interface InvalidArgumentError {
  readonly code: 'INVALID_ARGUMENT'
  readonly field: string
  readonly message: string
}

/** Every error the pure core can produce. */
export type CoreError = CorruptionError | SequenceOverflowError | InvalidArgumentError

/** The stable codes of {@link CoreError}. */
export type CoreErrorCode = CoreError['code']

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const corruption = (message: string): CorruptionError => ({ code: 'CORRUPTION', message })

export const sequenceOverflow = (message: string): SequenceOverflowError => ({
  code: 'SEQUENCE_OVERFLOW',
  message,
})

export const invalidArgument = (field: string, message: string): InvalidArgumentError => ({
  code: 'INVALID_ARGUMENT',
  field,
  message: `${field}: ${message}`,
})
