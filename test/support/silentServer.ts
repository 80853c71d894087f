// PostgreSQL servers that stop answering, for the time limits' tests: a fake one that accepts
// connections and never says a word (`mute`) or answers the startup and then nothing (`stall`),
// and a proxy in front of a real server that can be frozen at any moment. Each listens on a Unix
// socket in a directory of its own, as the test server does, and never closes a connection on
// its own: a client that gives up must drop it.
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface SilentServer {
  /** A URL of the server, for the role `deltalog` and database `deltalog_test`. */
  readonly url: string
  /** Connections the clients have not let go of. */
  readonly open: () => number
  readonly close: () => Promise<void>
}

const PORT = 5432

// AuthenticationOk, then ReadyForQuery (idle): what a trusting server answers a startup with.
const READY = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0, 0x5a, 0, 0, 0, 5, 0x49])

/** Listens on a socket in a new directory; `onSocket` gets each connection. */
const listen = async (onSocket: (socket: Socket) => void) => {
  const dir = mkdtempSync(join(tmpdir(), 'deltalog-silent-'))
  const sockets = new Set<Socket>()
  const every = new Set<Socket>()
  // allowHalfOpen: a client's goodbye is not answered either, as by a server that stopped.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket)
    every.add(socket)
    // Let go by the client (its side ended), though this side never answers its goodbye.
    socket.on('end', () => sockets.delete(socket))
    socket.on('close', () => {
      sockets.delete(socket)
      every.delete(socket)
    })
    socket.on('error', () => undefined)
    onSocket(socket)
  })
  await new Promise<void>((resolve) => server.listen(join(dir, `.s.PGSQL.${PORT}`), resolve))
  return {
    dir,
    url: `postgresql://deltalog@/deltalog_test?host=${dir}`,
    open: () => sockets.size,
    close: async () => {
      for (const socket of every) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A fake server: `mute` never answers; `stall` answers the startup, then nothing. */
export const silentServer = (mode: 'mute' | 'stall'): Promise<SilentServer> =>
  listen((socket) => {
    if (mode === 'stall') socket.once('data', () => socket.write(READY))
    // Reads (and ignores) everything, so that a client's goodbye is seen.
    socket.on('data', () => undefined)
  })

export interface FreezableProxy extends SilentServer {
  /** From now on nothing passes either way, and new connections get no answer. */
  readonly freeze: () => void
}

/**
 * A proxy of the server at `url` (a Unix socket URL, as the test server's): it passes bytes both
 * ways until frozen. Its URL is `url` with the proxy's socket directory as `host`.
 */
export const freezableProxy = async (url: string): Promise<FreezableProxy> => {
  // Such a URL has no host before its path, which WHATWG URLs refuse: read its query by hand.
  const hostParam = /([?&]host=)([^&]*)/
  const host = hostParam.exec(url)?.[2]
  if (host === undefined) throw new Error(`${url} names no socket directory (host=)`)
  let frozen = false
  const upstreams = new Set<Socket>()
  const proxy = await listen((socket) => {
    if (frozen) return
    const upstream = createConnection(join(decodeURIComponent(host), `.s.PGSQL.${PORT}`))
    upstreams.add(upstream)
    upstream.on('error', () => socket.destroy())
    upstream.on('close', () => {
      upstreams.delete(upstream)
      if (!frozen) socket.destroy()
    })
    socket.on('close', () => upstream.destroy())
    socket.on('data', (chunk) => frozen || upstream.write(chunk))
    upstream.on('data', (chunk) => frozen || socket.write(chunk))
  })
  return {
    url: url.replace(hostParam, `$1${proxy.dir}`),
    open: proxy.open,
    freeze: () => (frozen = true),
    close: async () => {
      for (const upstream of upstreams) upstream.destroy()
      await proxy.close()
    },
  }
}
