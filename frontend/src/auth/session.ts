// Session tokens: silent refresh before expiry, shared across tabs.
//
// The refresh token rotates: using one twice revokes the whole session. So:
//  * tokens live in localStorage (one copy for every tab of the origin, read synchronously when a
//    tab starts) and in IndexedDB (`shared`);
//  * a refresh runs under a Web Lock (navigator.locks) named REFRESH_LOCK, so only one tab at a
//    time can rotate; inside the lock the tab re-reads the tokens and, if another tab already
//    rotated (the stored refresh token differs from the one it meant to use), adopts the new
//    tokens instead of presenting the spent one. It decides on the IndexedDB copy: Chromium
//    propagates a localStorage write to the other tabs' processes asynchronously, so a tab
//    granted the lock a moment after another released it can still read the spent token
//    there, while an IndexedDB transaction that completed before the release is seen by every
//    transaction started after it (the pairing the Web Locks spec itself suggests). The tab
//    that refreshed keeps the lock until its IndexedDB write has completed;
//  * the tab that refreshed broadcasts the new tokens on a BroadcastChannel, so the other tabs
//    reschedule their timers (and a sign-out or revocation ends every tab).
import { createStore, get, set } from 'idb-keyval'
import type { TokensOut } from '@/api/types'

export interface StoredTokens {
  accessToken: string
  accessExpiresAt: number // epoch ms
  refreshToken: string
  refreshExpiresAt: number
  savedAt?: number // epoch ms when the server's answer was stored: the newer of two copies wins
}

/** The copy of the tokens that every tab sees in the order it was written (IndexedDB). */
export interface SharedTokensLike {
  /** The last record written; `tokens: null` once the session ended; undefined if none yet. */
  read(): Promise<{ tokens: StoredTokens | null; savedAt: number } | undefined>
  write(tokens: StoredTokens | null, savedAt: number): Promise<void>
}

export type EndReason = 'signed_out' | 'revoked' | 'expired'

export type SessionMessage =
  | { type: 'tokens'; tokens: StoredTokens; payload?: TokensOut }
  | { type: 'ended'; reason: EndReason }

export interface ChannelLike {
  postMessage(m: SessionMessage): void
  onmessage: ((ev: { data: SessionMessage }) => void) | null
  close?(): void
}
export interface LocksLike {
  request<T>(name: string, cb: () => Promise<T>): Promise<T>
}
export interface StorageLike {
  getItem(k: string): string | null
  setItem(k: string, v: string): void
  removeItem(k: string): void
}

export class RefreshRejected extends Error {
  constructor(public code: string) {
    super(code)
  }
}

export interface SessionDeps {
  /** POST /auth/refresh; throws RefreshRejected on a 401 (code from the API), other errors otherwise. */
  refresh(refreshToken: string): Promise<TokensOut>
  storage: StorageLike
  /** Where the tabs coordinate a refresh; null where IndexedDB is unavailable (localStorage then). */
  shared?: SharedTokensLike | null
  channel: ChannelLike | null
  locks: LocksLike | null
  now(): number
  setTimer(fn: () => void, ms: number): unknown
  clearTimer(t: unknown): void
  /** How long before the access token expires to refresh it. */
  marginMs?: number
}

export const STORAGE_KEY = 'cuspide.session'
export const REFRESH_LOCK = 'cuspide.refresh'
export const CHANNEL_NAME = 'cuspide.session'
const RETRY_MS = 15_000

/** When to refresh: `margin` before expiry, but never later than 80% into a short-lived token. */
export function refreshDelay(tokens: StoredTokens, now: number, marginMs = 120_000): number {
  const remaining = tokens.accessExpiresAt - now
  const margin = Math.min(marginMs, Math.max(remaining * 0.2, 0))
  return Math.max(0, remaining - margin)
}

export function toStored(out: TokensOut, now: number): StoredTokens {
  return {
    accessToken: out.access_token,
    accessExpiresAt: now + out.expires_in * 1000,
    refreshToken: out.refresh_token,
    refreshExpiresAt: now + out.refresh_expires_in * 1000,
    savedAt: now,
  }
}

export class SessionManager {
  tokens: StoredTokens | null = null
  private timer: unknown = null
  private sharedWrite: Promise<void> = Promise.resolve()
  private inflight: Promise<StoredTokens | null> | null = null
  private tokenListeners: ((t: StoredTokens, payload?: TokensOut) => void)[] = []
  private endListeners: ((r: EndReason) => void)[] = []

  constructor(private deps: SessionDeps) {
    if (deps.channel) deps.channel.onmessage = (ev) => this.onMessage(ev.data)
  }

  onTokens(fn: (t: StoredTokens, payload?: TokensOut) => void) {
    this.tokenListeners.push(fn)
  }
  onEnded(fn: (r: EndReason) => void) {
    this.endListeners.push(fn)
  }

  /** Load what another tab (or an earlier visit) stored; false when there is no usable session. */
  start(): boolean {
    const t = this.read()
    if (!t || t.refreshExpiresAt <= this.deps.now()) {
      if (t) this.deps.storage.removeItem(STORAGE_KEY)
      return false
    }
    this.tokens = t
    this.schedule()
    return true
  }

  /** Tokens from a sign-in, a clinic switch or a refresh: store, schedule and tell the other tabs. */
  setTokens(out: TokensOut): StoredTokens {
    const now = this.deps.now()
    // Newer than the tokens they replace, even within the same millisecond.
    const t = { ...toStored(out, now), savedAt: Math.max(now, (this.tokens?.savedAt ?? 0) + 1) }
    this.adopt(t, out)
    // Only the tab that received tokens from the server writes the shared copy: a tab that
    // adopts them from a message could otherwise put back tokens already rotated since.
    this.writeShared(t)
    this.deps.channel?.postMessage({ type: 'tokens', tokens: t, payload: out })
    return t
  }

  /** A valid access token, refreshing first when it is (about to be) expired. */
  async accessToken(): Promise<string | null> {
    if (!this.tokens) return null
    if (this.tokens.accessExpiresAt - this.deps.now() > 5_000) return this.tokens.accessToken
    const t = await this.refresh()
    return t?.accessToken ?? null
  }

  /** Rotate the refresh token once, whatever the number of callers in this tab. */
  refresh(): Promise<StoredTokens | null> {
    if (!this.inflight) {
      this.inflight = this.refreshShared().finally(() => {
        this.inflight = null
      })
    }
    return this.inflight
  }

  end(reason: EndReason, broadcast = true) {
    const had = this.tokens !== null
    // The end is newer than the tokens it ends, even within the same millisecond.
    const endedAt = Math.max(this.deps.now(), (this.tokens?.savedAt ?? 0) + 1)
    this.tokens = null
    this.clear()
    this.deps.storage.removeItem(STORAGE_KEY)
    if (broadcast) this.writeShared(null, endedAt)
    if (broadcast) this.deps.channel?.postMessage({ type: 'ended', reason })
    if (had || broadcast) for (const fn of this.endListeners) fn(reason)
  }

  private async refreshShared(): Promise<StoredTokens | null> {
    const planned = this.tokens?.refreshToken
    if (!planned) return null
    const run = async () => {
      const stored = await this.readLatest()
      if (!stored) {
        // Another tab signed out or was revoked while we waited.
        this.end('revoked', false)
        return null
      }
      if (stored.refreshToken !== planned && stored.accessExpiresAt - this.deps.now() > 5_000) {
        // Another tab rotated while we waited for the lock: use its tokens, never the spent one.
        this.adopt(stored)
        return stored
      }
      try {
        const out = await this.deps.refresh(stored.refreshToken)
        const t = this.setTokens(out)
        // Release the lock only once the next tab to take it can read these tokens.
        await this.sharedWrite
        return t
      } catch (e) {
        if (e instanceof RefreshRejected) {
          this.end(e.code === 'SESSION_REVOKED' ? 'revoked' : 'expired')
          return null
        }
        // Network trouble: keep the session, try again soon.
        this.schedule(RETRY_MS)
        return null
      }
    }
    return this.deps.locks ? this.deps.locks.request(REFRESH_LOCK, run) : run()
  }

  private onMessage(m: SessionMessage) {
    // A message that arrives late must not replace tokens rotated since.
    if (m.type === 'tokens' && (m.tokens.savedAt ?? 0) >= (this.tokens?.savedAt ?? 0)) this.adopt(m.tokens, m.payload)
    else if (m.type === 'ended') this.end(m.reason, false)
  }

  private adopt(t: StoredTokens, payload?: TokensOut) {
    this.tokens = t
    this.deps.storage.setItem(STORAGE_KEY, JSON.stringify(t))
    this.schedule()
    for (const fn of this.tokenListeners) fn(t, payload)
  }

  private writeShared(t: StoredTokens | null, savedAt = t?.savedAt ?? this.deps.now()) {
    const shared = this.deps.shared
    if (!shared) return
    // In order, and never failing: without IndexedDB the localStorage copy still works.
    this.sharedWrite = this.sharedWrite.then(() => shared.write(t, savedAt)).catch(() => undefined)
  }

  /** The newest of the IndexedDB and localStorage copies (null: the session ended). */
  private async readLatest(): Promise<StoredTokens | null> {
    const local = this.read()
    let record: Awaited<ReturnType<SharedTokensLike['read']>>
    try {
      await this.sharedWrite
      record = await this.deps.shared?.read()
    } catch {
      record = undefined
    }
    if (record && (!local || record.savedAt > (local.savedAt ?? 0))) return record.tokens
    return local
  }

  private read(): StoredTokens | null {
    try {
      const raw = this.deps.storage.getItem(STORAGE_KEY)
      return raw ? (JSON.parse(raw) as StoredTokens) : null
    } catch {
      return null
    }
  }

  private clear() {
    if (this.timer !== null) this.deps.clearTimer(this.timer)
    this.timer = null
  }

  private schedule(delay?: number) {
    this.clear()
    if (!this.tokens) return
    const ms = delay ?? refreshDelay(this.tokens, this.deps.now(), this.deps.marginMs)
    this.timer = this.deps.setTimer(() => {
      this.timer = null
      void this.refresh()
    }, ms)
  }
}

/** IndexedDB through idb-keyval: a write resolves when its transaction has completed. */
export function indexedDbTokens(): SharedTokensLike | null {
  if (typeof indexedDB === 'undefined') return null
  const store = createStore('cuspide', 'session')
  return {
    read: () => get(STORAGE_KEY, store),
    write: (tokens, savedAt) => set(STORAGE_KEY, { tokens, savedAt }, store),
  }
}

/** The browser wiring: localStorage, IndexedDB, BroadcastChannel, navigator.locks, real timers. */
export function browserDeps(refresh: SessionDeps['refresh']): SessionDeps {
  const nav = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LocksLike }) : undefined
  return {
    refresh,
    storage: window.localStorage,
    shared: indexedDbTokens(),
    channel: typeof BroadcastChannel !== 'undefined' ? (new BroadcastChannel(CHANNEL_NAME) as unknown as ChannelLike) : null,
    locks: nav?.locks ? { request: (name, cb) => nav.locks!.request(name, cb) } : null,
    now: () => Date.now(),
    setTimer: (fn, ms) => window.setTimeout(fn, Math.min(ms, 2_147_000_000)),
    clearTimer: (t) => window.clearTimeout(t as number),
  }
}
