// The code a promise rejects with, for tests that check which error a call gives.
import { expect } from 'vitest'
import { DeltalogError } from '../../src/errors.js'

/** The `code` of the DeltalogError `promise` rejects with; anything else fails the test. */
export const code = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(DeltalogError)
    return (error as DeltalogError).code
  }
  throw new Error('expected a rejection')
}
