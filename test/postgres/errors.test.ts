// How the adapter reports PostgreSQL's failures, without a server: a password in any case of
// `password=` removed from the message and the cause, and every SQLSTATE of class 08 (connection
// exception) taken as a lost connection, which followers and readers try again.
import { describe, expect, it } from 'vitest'
import { fromPg } from '../../src/postgres/errors.js'

const pgError = (message: string, code?: string): Error =>
  Object.assign(new Error(message), code === undefined ? {} : { code })

describe('fromPg', () => {
  it('removes a password set as PASSWORD= or Password= from the message and the cause', () => {
    for (const setting of ['PASSWORD=s3cr3t', 'Password = s3cr3t', "PASSWORD='s3cr3t'"]) {
      const error = fromPg('open log', pgError(`cannot connect with host=db ${setting} user=app`))
      expect(error.message).not.toContain('s3cr3t')
      expect(error.message).toContain('user=app')
      expect(String((error as { cause?: Error }).cause?.message)).not.toContain('s3cr3t')
    }
  })

  it('takes every SQLSTATE of class 08 for a lost connection, and a refusal for none', () => {
    for (const code of ['08000', '08003', '08006', '08001', '08004', '08007', '08P01']) {
      expect(fromPg('query', pgError('connection exception', code))).toMatchObject({
        code: 'IO_ERROR',
        lostConnection: true,
      })
    }
    for (const code of ['42P01', '23505', '40001', '09000', '80000']) {
      expect(fromPg('query', pgError('refused', code))).not.toHaveProperty('lostConnection')
    }
  })
})
