// The tab's live connection and what the screens read from it: the inbox badge, a way to
// subscribe to events, and the small caches the toasts use (patients' names, this tab's own
// changes). One connection per tab: `start()` is idempotent; sign-out stops it.
import { defineStore } from 'pinia'
import { markRaw, ref, watch } from 'vue'
import { api, ApiError } from '@/api/http'
import { bridgeApi } from '@/api/bridge'
import { patientsApi } from '@/api/patients'
import { LiveClient, type LiveDeps, type LiveEvent, type LiveState, type Ticket } from '@/live/client'
import { concernsInbox, RecentIds } from '@/live/notices'
import { ownChanges } from '@/live/own'
import { useSession } from './session'

export const INBOX_PAGE = 100

export function browserLiveDeps(): LiveDeps {
  return {
    ticket: () => api.post<Ticket>('/live/tickets'),
    socket: (url) => new WebSocket(url) as unknown as ReturnType<LiveDeps['socket']>,
    setTimer: (fn, ms) => window.setTimeout(fn, ms),
    clearTimer: (t) => window.clearTimeout(t as number),
    random: Math.random,
    now: () => Date.now(),
  }
}

export const useLive = defineStore('live', () => {
  const session = useSession()
  const state = ref<LiveState>('idle')
  /** Unassigned captures waiting (null: not known, or not allowed to see them). */
  const inboxCount = ref<number | null>(null)
  const inboxMore = ref(false)
  const own = markRaw(ownChanges)
  const announced = markRaw(new RecentIds(15 * 60_000))
  const names = new Map<string, Promise<string | null>>()
  const subscribers = new Set<(ev: LiveEvent) => void>()
  const resyncers = new Set<() => void>()
  let client: LiveClient | null = null
  let inboxTimer: ReturnType<typeof setTimeout> | undefined
  let inboxSeq = 0

  async function refreshInbox() {
    clearTimeout(inboxTimer)
    if (!session.signedIn || !session.can('imaging.images.read')) {
      inboxCount.value = null
      return
    }
    const mine = ++inboxSeq
    try {
      const page = await bridgeApi.inbox(null, INBOX_PAGE)
      if (mine !== inboxSeq) return
      inboxCount.value = page.items.length
      inboxMore.value = !!page.next_cursor
    } catch (e) {
      // No inbox on this server (yet), or not allowed: no badge rather than a wrong one.
      if (mine === inboxSeq && e instanceof ApiError && (e.status === 404 || e.status === 403)) inboxCount.value = null
    }
  }
  /** Coalesce a burst of events (a DICOM study is dozens of captures) into one read. */
  function scheduleInbox(ms = 300) {
    clearTimeout(inboxTimer)
    inboxTimer = setTimeout(() => void refreshInbox(), ms)
  }

  function start(deps: LiveDeps = browserLiveDeps()) {
    if (!client) {
      client = new LiveClient(deps)
      client.onState((s) => (state.value = s))
      client.on((ev) => {
        if (concernsInbox(ev)) scheduleInbox()
        for (const fn of [...subscribers]) fn(ev)
      })
      client.onResync(() => {
        scheduleInbox(0)
        for (const fn of [...resyncers]) fn()
      })
    }
    client.start()
    void refreshInbox()
  }

  function stop() {
    client?.stop()
    clearTimeout(inboxTimer)
    inboxCount.value = null
    inboxMore.value = false
    own.clear()
    announced.clear()
    names.clear() // patients' names are PHI: not kept past the session
  }

  /** Every event (already de-duplicated). Returns the unsubscribe function. */
  function subscribe(fn: (ev: LiveEvent) => void, onResync?: () => void): () => void {
    subscribers.add(fn)
    if (onResync) resyncers.add(onResync)
    return () => {
      subscribers.delete(fn)
      if (onResync) resyncers.delete(onResync)
    }
  }

  /** The patient's name for a toast (null without `patients.read`, or when it cannot be read). */
  function patientName(id: string | null): Promise<string | null> {
    if (!id || !session.can('patients.read')) return Promise.resolve(null)
    let p = names.get(id)
    if (!p) {
      p = patientsApi.get(id).then((x) => x.full_name, () => {
        names.delete(id)
        return null
      })
      names.set(id, p)
    }
    return p
  }

  session.onTokensChanged(() => client?.renew())
  session.onSessionEnded(() => stop())
  // Another clinic: other names, another inbox.
  watch(
    () => session.clinic?.clinic_id,
    (now, before) => {
      if (before && now && now !== before) {
        names.clear()
        announced.clear()
        void refreshInbox()
      }
    },
  )
  if (typeof window !== 'undefined') window.addEventListener('online', () => client?.renew())

  return { state, inboxCount, inboxMore, start, stop, subscribe, refreshInbox, scheduleInbox, patientName, own, announced }
})
