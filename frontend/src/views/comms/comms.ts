// Pure helpers of the communications screens (unit-tested in comms.test.ts).
import type { Appointment, ApptStatus } from '@/api/agenda'
import type { Message, TemplateKind } from '@/api/comms'

/** What is left of the 24-hour customer-service window, or null when it is closed. */
export function windowLeft(closesAt: string | null, now: number): { h: number; m: number } | null {
  if (!closesAt) return null
  const ms = Date.parse(closesAt) - now
  if (!(ms > 0)) return null
  const min = Math.ceil(ms / 60_000)
  return { h: Math.floor(min / 60), m: min % 60 }
}

export type LeadUnit = 'minutes' | 'hours' | 'days'
/** A lead time in minutes as people say it: 1440 -> 1 day, 120 -> 2 hours, 90 -> 90 minutes. */
export function leadParts(min: number): { value: number; unit: LeadUnit } {
  if (min % 1440 === 0) return { value: min / 1440, unit: 'days' }
  if (min % 60 === 0) return { value: min / 60, unit: 'hours' }
  return { value: min, unit: 'minutes' }
}
export function leadMinutes(value: number, unit: LeadUnit): number {
  return Math.round(value * (unit === 'days' ? 1440 : unit === 'hours' ? 60 : 1))
}
/** The API's rule (15 minutes to 14 days, in steps of 5), checked before sending. */
export function leadValid(min: number): boolean {
  return Number.isInteger(min) && min >= 15 && min <= 14 * 1440 && min % 5 === 0
}

/** Recipients typed as a list ("a@x.es, b@y.es" or one a line): the addresses and the bad ones. */
export function parseRecipients(text: string): { ok: string[]; bad: string[] } {
  const parts = text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean)
  const ok: string[] = []
  const bad: string[] = []
  for (const p of parts) (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(p) ? ok : bad).push(p)
  return { ok: [...new Set(ok)], bad }
}

/**
 * Which appointments a template can be about. The approved texts (docs/whatsapp-templates.md)
 * speak of an appointment to come (booking, reminder, rescheduled), one cancelled, or one
 * missed: only offer what makes the message true.
 */
const FITS: Record<TemplateKind, { statuses: ApptStatus[]; future: boolean | null }> = {
  booking: { statuses: ['scheduled', 'confirmed'], future: true },
  reminder: { statuses: ['scheduled', 'confirmed'], future: true },
  reschedule: { statuses: ['scheduled', 'confirmed'], future: true },
  cancellation: { statuses: ['cancelled'], future: null },
  missed: { statuses: ['no_show'], future: false },
}
export function appointmentsFor(kind: TemplateKind, appts: Appointment[], now: number): Appointment[] {
  const fit = FITS[kind]
  return appts.filter((a) => fit.statuses.includes(a.status) && (fit.future === null || (Date.parse(a.start) > now) === fit.future))
}

/** A thread reads top to bottom, oldest first; the API pages newest first. */
export function chronological(ms: Message[]): Message[] {
  const seen = new Set<string>()
  return [...ms]
    .filter((m) => (seen.has(m.message_id) ? false : (seen.add(m.message_id), true)))
    .sort((a, b) => a.created_at.localeCompare(b.created_at))
}

/** When a message was sent, as short as is clear: the time today, else the date and time. */
export function stamp(iso: string, now: number, locale: string): string {
  const at = new Date(iso)
  const today = new Date(now)
  const time = at.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
  if (at.toDateString() === today.toDateString()) return time
  const sameYear = at.getFullYear() === today.getFullYear()
  const day = at.toLocaleDateString(locale, sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' })
  return `${day}, ${time}`
}

/** The approved templates by name (chalicelib/comms/whatsapp.py TEMPLATES). */
export const TEMPLATE_NAMES: Record<string, TemplateKind> = {
  cuspide_booking_confirmation: 'booking',
  cuspide_appointment_reminder: 'reminder',
  cuspide_appointment_rescheduled: 'reschedule',
  cuspide_appointment_cancelled: 'cancellation',
  cuspide_missed_visit: 'missed',
}
/** A preview line in words: a template's name becomes what it is ("Appointment reminder"). */
export function templateWords(text: string | null, t: (key: string) => string): string {
  if (!text) return ''
  const kind = TEMPLATE_NAMES[text]
  return kind ? t(`comms.templates.${kind}`) : text
}
