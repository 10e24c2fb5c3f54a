// Live notifications: one WebSocket per tab to the clinic's event stream.
//
// Framework-free (the store wires it to the session and the screens; unit-tested with a fake
// socket and fake timers):
//  * every connection attempt asks the API for a new single-use ticket (POST /live/tickets,
//    never the access token in a URL) and opens `<url>?ticket=<ticket>`;
//  * a lost connection is retried with exponential backoff and jitter (1 s, 2 s, 4 s … 30 s,
//    each drawn between half and all of the step); a connection that stayed up a while, or
//    that the server greeted with `live.ready`, starts the count again;
//  * `live.expiring` (the server closes the connection about a minute later), a refreshed
//    access token or a clinic switch renew the connection make-before-break: the new socket
//    opens, then the old one is closed, so nothing is missed; events are de-duplicated by
//    `event_id` (the overlap, and at-least-once delivery);
//  * `stop()` (sign-out) closes everything and schedules nothing.

export interface Ticket { ticket: string; url: string; expires_at?: string }

/** A domain event as the server forwards it (`data` holds ids only, never PHI). */
export interface LiveEvent {
  type: string
  event_id?: string
  occurred_at?: string
  data: Record<string, unknown>
}

/** What the client needs from a WebSocket (the browser's, or a fake in tests). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code?: number; reason?: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
  close(code?: number, reason?: string): void
}

export interface LiveDeps {
  ticket(): Promise<Ticket>
  socket(url: string): SocketLike
  setTimer(fn: () => void, ms: number): unknown
  clearTimer(t: unknown): void
  random(): number
  now(): number
}

export type LiveState = 'idle' | 'connecting' | 'open' | 'retrying' | 'stopped'

export const BACKOFF_BASE_MS = 1_000
export const BACKOFF_CAP_MS = 30_000
/** A connection open at least this long counts as a success: the next loss retries quickly. */
export const STABLE_MS = 30_000
const SEEN_MAX = 500

/** The wait before retry number `attempt` (0-based): exponential, capped, with "equal jitter". */
export function backoffDelay(attempt: number, random: number, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS): number {
  const step = Math.min(cap, base * 2 ** Math.min(attempt, 30))
  return Math.round(step / 2 + (random * step) / 2)
}

/** The ticket's URL with `ticket=` added; a relative URL ("/live") is made absolute on `origin` (ws/wss). */
export function socketUrl(t: Ticket, origin?: string): string {
  let url = t.url
  if (!/^wss?:\/\//i.test(url)) {
    const u = new URL(url, origin ?? 'http://localhost/')
    u.protocol = u.protocol === 'https:' ? 'wss:' : u.protocol === 'http:' ? 'ws:' : u.protocol
    url = u.toString()
  }
  return `${url}${url.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(t.ticket)}`
}

type Listener = (ev: LiveEvent) => void

export class LiveClient {
  state: LiveState = 'idle'
  /** Failed attempts since the last good connection. */
  attempts = 0
  private running = false
  private gen = 0
  private current: SocketLike | null = null
  private next: SocketLike | null = null
  private openedAt = 0
  private timer: unknown = null
  private renewing = false
  private hadConnection = false
  private listeners = new Set<Listener>()
  private stateListeners = new Set<(s: LiveState) => void>()
  private resyncListeners = new Set<() => void>()
  private seen: string[] = []
  private seenSet = new Set<string>()

  constructor(private deps: LiveDeps) {}

  /** Receive every domain event (once per event_id). Returns the unsubscribe function. */
  on(fn: Listener): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }
  onState(fn: (s: LiveState) => void): () => void {
    this.stateListeners.add(fn)
    return () => this.stateListeners.delete(fn)
  }
  /** Called when a connection comes back after a loss: events may have been missed meanwhile. */
  onResync(fn: () => void): () => void {
    this.resyncListeners.add(fn)
    return () => this.resyncListeners.delete(fn)
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.attempts = 0
    this.hadConnection = false
    void this.connect()
  }

  stop(): void {
    this.running = false
    this.gen++
    this.clearTimer()
    this.renewing = false
    for (const s of [this.current, this.next]) if (s) this.closeQuietly(s)
    this.current = this.next = null
    this.setState('stopped')
  }

  /**
   * Replace the connection with a new one (a new ticket), keeping the old one until the new one
   * is open. When nothing is connected it connects now (and skips the wait of a retry).
   */
  renew(): void {
    if (!this.running) return
    if (!this.current) {
      if (this.state === 'retrying') {
        this.clearTimer()
        void this.connect()
      }
      return
    }
    if (this.renewing) return
    this.renewing = true
    void this.openNext()
  }

  // ---- internals ----

  private setState(s: LiveState) {
    if (this.state === s) return
    this.state = s
    this.stateListeners.forEach((fn) => fn(s))
  }

  private clearTimer() {
    if (this.timer !== null) this.deps.clearTimer(this.timer)
    this.timer = null
  }

  private closeQuietly(s: SocketLike) {
    s.onopen = s.onmessage = s.onclose = s.onerror = null
    try {
      s.close(1000, 'client')
    } catch {
      /* already closed */
    }
  }

  private async open(): Promise<SocketLike | null> {
    const gen = this.gen
    const t = await this.deps.ticket()
    if (!this.running || gen !== this.gen) return null
    return this.deps.socket(socketUrl(t, typeof location !== 'undefined' ? location.origin : undefined))
  }

  private async connect() {
    this.setState('connecting')
    const gen = ++this.gen
    let s: SocketLike | null
    try {
      s = await this.open()
    } catch {
      if (this.running && gen === this.gen) this.retry()
      return
    }
    if (!s || gen !== this.gen) return
    this.current = s
    this.wire(s)
    s.onopen = () => this.promote(s)
  }

  private async openNext() {
    const gen = this.gen
    let s: SocketLike | null
    try {
      s = await this.open()
    } catch {
      this.renewing = false
      return // the current connection carries on; its own loss will retry
    }
    if (!s || gen !== this.gen || !this.running) {
      if (s) this.closeQuietly(s)
      return
    }
    this.next = s
    this.wire(s)
    s.onopen = () => {
      if (this.next !== s) return
      const old = this.current
      this.next = null
      this.renewing = false
      this.current = s
      if (old) this.closeQuietly(old)
      this.promote(s)
    }
  }

  /** A socket is open and is the tab's connection. */
  private promote(s: SocketLike) {
    if (this.current !== s) return
    this.openedAt = this.deps.now()
    const back = this.hadConnection && this.state !== 'open'
    this.hadConnection = true
    this.setState('open')
    if (back) this.resyncListeners.forEach((fn) => fn())
  }

  private wire(s: SocketLike) {
    s.onmessage = (ev) => this.receive(s, ev.data)
    s.onerror = () => {
      /* the close that follows decides */
    }
    s.onclose = () => this.closed(s)
  }

  private receive(s: SocketLike, raw: unknown) {
    let msg: { type?: unknown; event_id?: unknown; occurred_at?: unknown; data?: unknown }
    try {
      msg = typeof raw === 'string' ? JSON.parse(raw) : (raw as typeof msg)
    } catch {
      return
    }
    if (!msg || typeof msg.type !== 'string') return
    if (msg.type === 'live.ready') {
      if (s === this.current) this.attempts = 0
      return
    }
    if (msg.type === 'live.expiring') {
      if (s === this.current) this.renew()
      return
    }
    if (msg.type.startsWith('live.')) return
    const id = typeof msg.event_id === 'string' ? msg.event_id : null
    if (id) {
      if (this.seenSet.has(id)) return
      this.seenSet.add(id)
      this.seen.push(id)
      if (this.seen.length > SEEN_MAX) this.seenSet.delete(this.seen.shift()!)
    }
    const ev: LiveEvent = {
      type: msg.type,
      event_id: id ?? undefined,
      occurred_at: typeof msg.occurred_at === 'string' ? msg.occurred_at : undefined,
      data: msg.data && typeof msg.data === 'object' ? (msg.data as Record<string, unknown>) : {},
    }
    for (const fn of [...this.listeners]) {
      try {
        fn(ev)
      } catch (e) {
        console.error('live listener failed', e)
      }
    }
  }

  private closed(s: SocketLike) {
    s.onopen = s.onmessage = s.onclose = s.onerror = null
    if (s === this.next) {
      // The replacement failed before it opened: keep the current connection.
      this.next = null
      this.renewing = false
      if (!this.current && this.running) this.retry()
      return
    }
    if (s !== this.current) return
    const wasOpen = this.state === 'open'
    this.current = null
    if (!this.running) return
    if (this.next) {
      // Closed while its replacement is on the way: that one takes over when it opens.
      this.setState('connecting')
      const n = this.next
      n.onopen = () => {
        if (this.next !== n) return
        this.next = null
        this.renewing = false
        this.current = n
        this.promote(n)
      }
      return
    }
    if (wasOpen && this.deps.now() - this.openedAt >= STABLE_MS) this.attempts = 0
    this.retry()
  }

  private retry() {
    this.clearTimer()
    const delay = backoffDelay(this.attempts, this.deps.random())
    this.attempts++
    this.setState('retrying')
    this.timer = this.deps.setTimer(() => {
      this.timer = null
      if (this.running) void this.connect()
    }, delay)
  }
}
