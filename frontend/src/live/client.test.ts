import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { backoffDelay, LiveClient, socketUrl, STABLE_MS, type LiveDeps, type LiveEvent, type SocketLike, type Ticket } from './client'

/** A WebSocket the test drives: open it, send it frames, close it from the "server". */
class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null
  onmessage: SocketLike['onmessage'] = null
  onclose: SocketLike['onclose'] = null
  onerror: SocketLike['onerror'] = null
  closed: number | null = null
  constructor(public url: string) {}
  open() {
    this.onopen?.({})
  }
  send(msg: unknown) {
    this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) })
  }
  serverClose(code = 1006) {
    this.onclose?.({ code })
  }
  close(code = 1000) {
    this.closed = code
  }
}

function world(opts: { failTickets?: number; random?: number } = {}) {
  const sockets: FakeSocket[] = []
  const tickets: string[] = []
  let failures = opts.failTickets ?? 0
  let n = 0
  const deps: LiveDeps = {
    ticket: vi.fn(async (): Promise<Ticket> => {
      if (failures > 0) {
        failures--
        throw new Error('network')
      }
      const t = `T${++n}`
      tickets.push(t)
      return { ticket: t, url: 'ws://stack.test/live', expires_at: '2026-01-01T00:01:00Z' }
    }),
    socket: (url) => {
      const s = new FakeSocket(url)
      sockets.push(s)
      return s
    },
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
    random: () => opts.random ?? 0.5,
    now: () => Date.now(),
  }
  const client = new LiveClient(deps)
  const events: LiveEvent[] = []
  client.on((e) => events.push(e))
  const last = () => sockets[sockets.length - 1]!
  return { client, deps, sockets, tickets, events, last }
}

/** Let the ticket promise and the socket creation run. */
const settle = () => vi.advanceTimersByTimeAsync(0)

beforeEach(() => vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') }))
afterEach(() => vi.useRealTimers())

describe('backoff', () => {
  it('doubles from one second up to thirty, with jitter between half and all of the step', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, 1))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
    expect([0, 1, 2, 5].map((a) => backoffDelay(a, 0))).toEqual([500, 1000, 2000, 15000])
    for (let a = 0; a < 8; a++) {
      const d = backoffDelay(a, Math.random())
      const step = Math.min(30000, 1000 * 2 ** a)
      expect(d).toBeGreaterThanOrEqual(step / 2)
      expect(d).toBeLessThanOrEqual(step)
    }
  })
})

describe('socket URL', () => {
  it('adds the ticket, and makes a relative URL absolute with ws/wss', () => {
    expect(socketUrl({ ticket: 'a b', url: 'wss://x.execute-api.eu-west-1.amazonaws.com/prod' })).toBe('wss://x.execute-api.eu-west-1.amazonaws.com/prod?ticket=a%20b')
    expect(socketUrl({ ticket: 't', url: 'ws://127.0.0.1:8000/live?v=1' })).toBe('ws://127.0.0.1:8000/live?v=1&ticket=t')
    expect(socketUrl({ ticket: 't', url: '/live' }, 'https://app.cuspide.es')).toBe('wss://app.cuspide.es/live?ticket=t')
    expect(socketUrl({ ticket: 't', url: '/live' }, 'http://127.0.0.1:18314')).toBe('ws://127.0.0.1:18314/live?ticket=t')
  })
})

describe('LiveClient', () => {
  it('connects with a ticket and hands each event to the listeners once', async () => {
    const w = world()
    w.client.start()
    w.client.start() // one connection per tab, however many callers
    await settle()
    expect(w.sockets).toHaveLength(1)
    expect(w.last().url).toBe('ws://stack.test/live?ticket=T1')
    w.last().open()
    w.last().send({ type: 'live.ready' })
    expect(w.client.state).toBe('open')
    const ev = { type: 'image.processed', event_id: 'E1', occurred_at: '2026-01-01T00:00:01Z', data: { image_id: 'I1', patient_id: 'P1' } }
    w.last().send(ev)
    w.last().send(ev) // delivered twice (at least once): shown once
    w.last().send('not json')
    w.last().send({ type: 'appointment.confirmed', event_id: 'E2', data: { appointment_id: 'A1' } })
    expect(w.events.map((e) => e.type)).toEqual(['image.processed', 'appointment.confirmed'])
    expect(w.events[0]!.data).toEqual({ image_id: 'I1', patient_id: 'P1' })
  })

  it('a listener that throws does not stop the others; unsubscribing stops delivery', async () => {
    const w = world()
    const seen: string[] = []
    w.client.on(() => {
      throw new Error('boom')
    })
    const off = w.client.on((e) => seen.push(e.type))
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    w.client.start()
    await settle()
    w.last().open()
    w.last().send({ type: 'capture.received', event_id: 'E1', data: {} })
    off()
    w.last().send({ type: 'capture.received', event_id: 'E2', data: {} })
    expect(seen).toEqual(['capture.received'])
    expect(w.events).toHaveLength(2)
  })

  it('retries a lost connection with growing delays, with a new ticket each time', async () => {
    const w = world({ random: 1 })
    w.client.start()
    await settle()
    w.last().serverClose() // never opened
    expect(w.client.state).toBe('retrying')
    await vi.advanceTimersByTimeAsync(999)
    expect(w.sockets).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(w.sockets).toHaveLength(2)
    w.last().serverClose()
    await vi.advanceTimersByTimeAsync(1999)
    expect(w.sockets).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(w.sockets).toHaveLength(3)
    w.last().serverClose()
    await vi.advanceTimersByTimeAsync(4000)
    expect(w.sockets).toHaveLength(4)
    expect(w.tickets).toEqual(['T1', 'T2', 'T3', 'T4'])
    expect(w.sockets.map((s) => s.url.split('ticket=')[1])).toEqual(['T1', 'T2', 'T3', 'T4'])
  })

  it('a ticket the API refuses (offline) is retried with backoff too', async () => {
    const w = world({ failTickets: 2, random: 1 })
    w.client.start()
    await settle()
    expect(w.sockets).toHaveLength(0)
    expect(w.client.state).toBe('retrying')
    await vi.advanceTimersByTimeAsync(1000)
    expect(w.sockets).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(2000)
    expect(w.sockets).toHaveLength(1)
    expect(w.deps.ticket).toHaveBeenCalledTimes(3)
  })

  it('live.ready resets the backoff, and a connection that comes back asks the screens to resync', async () => {
    const w = world({ random: 1 })
    const resync = vi.fn()
    w.client.onResync(resync)
    w.client.start()
    await settle()
    w.last().open()
    w.last().send({ type: 'live.ready' })
    expect(resync).not.toHaveBeenCalled() // the first connection is not a comeback
    for (let i = 0; i < 3; i++) {
      w.last().serverClose()
      await vi.advanceTimersByTimeAsync(backoffDelay(i, 1))
    }
    expect(w.client.attempts).toBe(3)
    w.last().open()
    w.last().send({ type: 'live.ready' })
    expect(w.client.attempts).toBe(0)
    expect(resync).toHaveBeenCalledTimes(1)
    w.last().serverClose()
    await vi.advanceTimersByTimeAsync(1000) // back to the first step
    expect(w.sockets).toHaveLength(5)
  })

  it('a connection that stayed up a while retries quickly even without live.ready', async () => {
    const w = world({ random: 1 })
    w.client.start()
    await settle()
    w.last().serverClose()
    await vi.advanceTimersByTimeAsync(1000)
    w.last().serverClose()
    await vi.advanceTimersByTimeAsync(2000)
    w.last().open()
    await vi.advanceTimersByTimeAsync(STABLE_MS)
    w.last().serverClose()
    await vi.advanceTimersByTimeAsync(1000)
    expect(w.sockets).toHaveLength(4)
  })

  it('on live.expiring it opens a new connection with a new ticket, then closes the old one', async () => {
    const w = world()
    w.client.start()
    await settle()
    const first = w.last()
    first.open()
    first.send({ type: 'live.ready' })
    first.send({ type: 'live.expiring' })
    await settle()
    expect(w.sockets).toHaveLength(2)
    const second = w.last()
    expect(second.url).toContain('ticket=T2')
    expect(first.closed).toBeNull() // still listening until the new one is open
    first.send({ type: 'appointment.updated', event_id: 'E1', data: {} })
    second.open()
    expect(first.closed).toBe(1000)
    second.send({ type: 'appointment.updated', event_id: 'E1', data: {} }) // the overlap: no duplicate
    second.send({ type: 'appointment.updated', event_id: 'E2', data: {} })
    expect(w.events.map((e) => e.event_id)).toEqual(['E1', 'E2'])
    // The old socket's close event is not a loss: nothing is scheduled.
    first.serverClose(1000)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(w.sockets).toHaveLength(2)
    expect(w.client.state).toBe('open')
  })

  it('the server closing the expiring connection before the new one opens loses nothing', async () => {
    const w = world()
    w.client.start()
    await settle()
    const first = w.last()
    first.open()
    first.send({ type: 'live.expiring' })
    await settle()
    const second = w.last()
    first.serverClose(1001)
    expect(w.client.state).toBe('connecting')
    second.open()
    expect(w.client.state).toBe('open')
    second.send({ type: 'image.processed', event_id: 'E9', data: {} })
    expect(w.events).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(w.sockets).toHaveLength(2)
  })

  it('renew() after a token refresh replaces the connection; while retrying it connects at once', async () => {
    const w = world({ random: 1 })
    w.client.start()
    await settle()
    w.last().open()
    w.client.renew()
    w.client.renew() // coalesced
    await settle()
    expect(w.sockets).toHaveLength(2)
    w.last().open()
    expect(w.sockets[0]!.closed).toBe(1000)
    w.last().serverClose()
    expect(w.client.state).toBe('retrying')
    w.client.renew() // e.g. the browser is back online: no need to wait for the timer
    await settle()
    expect(w.sockets).toHaveLength(3)
    expect(w.tickets).toEqual(['T1', 'T2', 'T3'])
  })

  it('stop() (sign-out) closes the connection and never reconnects', async () => {
    const w = world()
    w.client.start()
    await settle()
    w.last().open()
    w.client.stop()
    expect(w.last().closed).toBe(1000)
    expect(w.client.state).toBe('stopped')
    w.last().serverClose()
    w.client.renew()
    await vi.advanceTimersByTimeAsync(120_000)
    expect(w.sockets).toHaveLength(1)
    expect(w.deps.ticket).toHaveBeenCalledTimes(1)
  })

  it('stop() while a ticket is being fetched, or while waiting to retry, opens nothing', async () => {
    const w = world()
    w.client.start()
    w.client.stop() // the ticket request is in flight
    await vi.advanceTimersByTimeAsync(60_000)
    expect(w.sockets).toHaveLength(0)
    w.client.start()
    await settle()
    w.last().serverClose()
    w.client.stop()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(w.sockets).toHaveLength(1)
    // Signed in again: a fresh start.
    w.client.start()
    await settle()
    expect(w.sockets).toHaveLength(2)
  })
})
