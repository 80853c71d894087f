/**
 * Bytes as one line of readable text, for reports and the command line: valid UTF-8 shows as
 * itself, control characters and the backslash are escaped (`\n`, `\xNN`, `\\`), and bytes that
 * are not UTF-8 show as `\xNN`. One-way: use base64 where bytes must come back.
 */

const hex = (b: number): string => `\\x${b.toString(16).padStart(2, '0')}`

const escapeChar = (c: string): string => {
  const code = c.codePointAt(0) ?? 0
  if (c === '\\') return '\\\\'
  if (c === '\n') return '\\n'
  if (c === '\t') return '\\t'
  if (c === '\r') return '\\r'
  return code < 0x20 || code === 0x7f ? hex(code) : c
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Whether `bytes` are valid UTF-8, so that a string carries them exactly. */
export const isUtf8 = (bytes: Uint8Array): boolean => {
  try {
    utf8.decode(bytes)
    return true
  } catch {
    return false
  }
}

/** `bytes` as printable text on one line. */
export const printable = (bytes: Uint8Array): string => {
  if (isUtf8(bytes)) return Array.from(utf8.decode(bytes), escapeChar).join('')
  return Array.from(bytes, (b) =>
    b >= 0x20 && b < 0x7f ? escapeChar(String.fromCharCode(b)) : hex(b),
  ).join('')
}
