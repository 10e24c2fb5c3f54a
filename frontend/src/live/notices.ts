// Which live events deserve a toast, and what it says (pure; the words are i18n keys under
// `live.*`, the patient's name is looked up by the caller: events carry ids only).
import type { LiveEvent } from './client'

export interface NoticeContext {
  can(permission: string): boolean
  /** This tab caused it (an appointment it saved, an image it uploaded, a capture it assigned). */
  own(id: string | null): boolean
  /** A capture this tab already announced ("new X-ray for …"): its `image.processed` says "ready". */
  announced(imageId: string | null): boolean
  /** The signed-in user (an event whose actor is this user is not news from another desk). */
  userId: string | null
}

export interface Notice {
  severity: 'success' | 'info' | 'warn' | 'error'
  /** i18n key of the summary; `{name}` is the patient's name when `patientId` is set. */
  summary: string
  /** i18n key of the detail line (optional); same parameters. */
  detail?: string
  patientId: string | null
  /** ISO start of an appointment (shown in the detail line); the live message may not carry it. */
  when?: string
  /** The appointment, to read its start and patient when the message does not say. */
  appointmentId?: string
  /** Where the toast's link goes, and its i18n label. */
  link?: { to: string; label: string }
  /** Capture announced (remember its image_id). */
  announces?: string
  /** Who did it, when another person or the patient's link did. */
  by?: { kind: 'link' } | { kind: 'user'; name: string }
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null)

function actorOf(ev: LiveEvent): { type?: string; id?: string; name?: string } | null {
  const a = (ev.data.actor ?? null) as { type?: string; id?: string; name?: string } | null
  return a && typeof a === 'object' ? a : null
}

const APPT_SUMMARY: Record<string, string> = {
  'appointment.scheduled': 'live.appt.scheduled',
  'appointment.updated': 'live.appt.updated',
  'appointment.confirmed': 'live.appt.confirmed',
  'appointment.checked_in': 'live.appt.checked_in',
  'appointment.started': 'live.appt.started',
  'appointment.completed': 'live.appt.completed',
  'appointment.cancelled': 'live.appt.cancelled',
  'appointment.no_show': 'live.appt.no_show',
}

/** The toast for one event, or null when it is not news for this screen's user. */
export function noticeFor(ev: LiveEvent, ctx: NoticeContext): Notice | null {
  const d = ev.data
  const patientId = str(d.patient_id)
  const imageId = str(d.image_id)
  const actor = actorOf(ev)
  if (actor?.type === 'user' && actor.id && actor.id === ctx.userId) return null
  const images = (pid: string) => `/patients/${pid}/images`

  switch (ev.type) {
    case 'capture.received': {
      if (!ctx.can('imaging.images.read') || ctx.own(imageId)) return null
      if (d.inbox === true || !patientId) {
        return { severity: 'warn', summary: 'live.capture.inbox', detail: 'live.capture.inboxHint', patientId: null, link: { to: '/inbox', label: 'live.openInbox' }, announces: imageId ?? undefined }
      }
      return {
        severity: 'info', summary: d.kind === 'photo' ? 'live.capture.photo' : 'live.capture.xray', detail: 'live.capture.processing', patientId,
        link: ctx.can('patients.read') ? { to: images(patientId), label: 'live.openImages' } : undefined, announces: imageId ?? undefined,
      }
    }
    case 'image.processed': {
      if (!ctx.can('imaging.images.read') || ctx.own(imageId) || !patientId) return null // an inbox capture: its arrival was the news
      const xray = d.kind !== 'photo'
      const summary = ctx.announced(imageId) ? (xray ? 'live.image.xrayReady' : 'live.image.photoReady') : xray ? 'live.image.newXray' : 'live.image.newPhoto'
      return { severity: 'success', summary, patientId, link: ctx.can('patients.read') ? { to: images(patientId), label: 'live.openImages' } : undefined }
    }
    case 'image.failed': {
      if (!ctx.can('imaging.images.read') || ctx.own(imageId)) return null
      if (!patientId) return { severity: 'error', summary: 'live.image.failedInbox', patientId: null, link: { to: '/inbox', label: 'live.openInbox' } }
      return { severity: 'error', summary: 'live.image.failed', patientId, link: ctx.can('patients.read') ? { to: images(patientId), label: 'live.openImages' } : undefined }
    }
    case 'message.received': {
      if (!ctx.can('comms.messages.read')) return null
      return {
        severity: 'info', summary: patientId ? 'live.message.from' : 'live.message.unknown', patientId,
        // The conversation itself, where it can be answered (the inbox opens it by patient).
        link: { to: patientId ? `/messages?patient=${patientId}` : '/messages', label: 'live.openConversation' },
      }
    }
    case 'inventory.stock_low': {
      // Issue 17: an item fell below its reorder threshold (the tab that moved it said so already).
      const itemId = str(d.item_id)
      if (!ctx.can('inventory.read') || ctx.own(itemId)) return null
      return { severity: 'warn', summary: 'inventory.live.low', patientId: null, link: itemId ? { to: `/inventory/items/${itemId}`, label: 'inventory.live.open' } : { to: '/inventory?below=1', label: 'inventory.live.open' } }
    }
    default: {
      const summary = APPT_SUMMARY[ev.type]
      if (!summary || !ctx.can('agenda.appointments.read') || ctx.own(str(d.appointment_id))) return null
      const start = str(d.start)
      const by: Notice['by'] = actor?.type === 'link' ? { kind: 'link' } : actor?.type === 'user' && actor.name ? { kind: 'user', name: actor.name } : undefined
      const moved = ev.type === 'appointment.updated' && d.rescheduled === true
      return {
        severity: ev.type === 'appointment.cancelled' || ev.type === 'appointment.no_show' ? 'warn' : 'info',
        summary: moved ? 'live.appt.rescheduled' : summary,
        patientId,
        when: start ?? undefined,
        appointmentId: str(d.appointment_id) ?? undefined,
        by,
        link: { to: start ? `/agenda?date=${start.slice(0, 10)}` : '/agenda', label: 'live.openAgenda' },
      }
    }
  }
}

/** Does this event concern the images of `patientId` (the open patient's gallery refreshes)? */
export function concernsImagesOf(ev: LiveEvent, patientId: string): boolean {
  return (ev.type.startsWith('image.') || ev.type.startsWith('capture.')) && ev.data.patient_id === patientId
}

/** Does this event change the inbox of unassigned captures (its list and badge)? */
export function concernsInbox(ev: LiveEvent): boolean {
  if (ev.type.startsWith('capture.')) return true
  // An inbox capture turning ready (its thumbnail) or failed.
  return ev.type.startsWith('image.') && (ev.data.patient_id === null || ev.data.patient_id === undefined || ev.data.inbox === true)
}

/** A short-lived set of ids this tab acted on (so its own changes do not come back as news). */
export class RecentIds {
  private ids = new Map<string, number>()
  constructor(private ttlMs = 60_000, private now: () => number = () => Date.now()) {}
  add(id: string | null | undefined) {
    if (!id) return
    this.ids.set(id, this.now() + this.ttlMs)
    if (this.ids.size > 200) for (const [k, exp] of this.ids) if (exp < this.now()) this.ids.delete(k)
  }
  has(id: string | null | undefined): boolean {
    if (!id) return false
    const exp = this.ids.get(id)
    if (exp === undefined) return false
    if (exp < this.now()) {
      this.ids.delete(id)
      return false
    }
    return true
  }
  clear() {
    this.ids.clear()
  }
}
