/**
 * PostgreSQL's failures as StorageErrors: what failed and the server's words, with anything
 * that looks like a password removed, whether the connection was lost (a call worth making
 * again once the server is back) rather than refused, and what waited too long when a time
 * limit ended it.
 */
import { ioError, type StorageError } from '../errors.js'
import { timeoutOf } from './timeouts.js'

const SQLSTATE = /^[0-9A-Z]{5}$/

/**
 * A pg error as a StorageError; the message names what failed, never how it connected. The
 * cause is a redacted copy (its name, message and code), not the error itself, whose other
 * fields could hold a connection string.
 */
export const fromPg = (what: string, error: unknown): StorageError => {
  const e = error as { message?: unknown; code?: unknown; name?: unknown }
  const detail = redact(typeof e.message === 'string' ? e.message : String(error))
  const code = typeof e.code === 'string' ? e.code : undefined
  const cause = Object.assign(new Error(detail), {
    name: typeof e.name === 'string' ? e.name : 'Error',
    ...(code === undefined ? {} : { code }),
  })
  const label = code === undefined ? '' : SQLSTATE.test(code) ? ` (SQLSTATE ${code})` : ` (${code})`
  const failed = ioError(`postgres ${what}: ${detail}${label}`, cause)
  // A timeout dropped the connection (or never had one): as lost as a terminated one.
  const timeout = timeoutOf(error)
  if (timeout !== undefined) return { ...failed, timeout, lostConnection: true }
  return lostConnection(code, detail) ? { ...failed, lostConnection: true } : failed
}

/**
 * Whether an error says the connection was lost or could not be made, rather than that the
 * server refused what was asked: SQLSTATE class 08 (connection exception), a shutdown or a
 * server not yet accepting connections (57P01–57P03), too many connections (53300), a socket
 * error, or pg's own words for a connection that ended or could not be had.
 */
const lostConnection = (code: string | undefined, message: string): boolean =>
  code !== undefined
    ? code.startsWith('08') ||
      ['57P01', '57P02', '57P03', '53300'].includes(code) ||
      /^E(CONNREFUSED|CONNRESET|CONNABORTED|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|NOENT|AI_AGAIN)$/.test(
        code,
      )
    : /Connection terminated|is not queryable|timeout exceeded when trying to connect/.test(message)

/**
 * Removes anything that looks like a password from a text: the password of a URL
 * (`scheme://user:secret@host`, an `@` in it included) and a `password=…` setting or query
 * parameter.
 */
export const redact = (text: string): string =>
  text
    .replace(/(:\/\/[^:/@\s]*):[^\s/]*@/g, '$1:***@')
    .replace(/(password\s*=\s*)('[^']*'|[^\s&]+)/gi, '$1***')
