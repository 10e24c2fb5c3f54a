// Pure layout rules of the agenda grid (unit-tested): side-by-side lanes for overlapping
// appointments, the visible hour range, the closed bands and the conflict text.
import { hhmm, minutesOf, type Appointment, type Day } from '@/api/agenda'

export interface Span { id: string; start: number; end: number }
export interface Lane { lane: number; lanes: number }

/**
 * Lanes for overlapping spans, as calendars lay them out: spans that overlap (directly or
 * through a chain) form a cluster; inside it each span takes the first free lane, and every
 * span of the cluster shares the cluster's lane count so widths line up.
 */
export function lanes(spans: Span[]): Map<string, Lane> {
  const out = new Map<string, Lane>()
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end)
  let cluster: { id: string; lane: number }[] = []
  let laneEnds: number[] = []
  let clusterEnd = -Infinity
  const flush = () => {
    for (const c of cluster) out.set(c.id, { lane: c.lane, lanes: laneEnds.length })
    cluster = []
    laneEnds = []
  }
  for (const s of sorted) {
    if (s.start >= clusterEnd) flush()
    let lane = laneEnds.findIndex((end) => end <= s.start)
    if (lane < 0) lane = laneEnds.push(s.end) - 1
    else laneEnds[lane] = s.end
    cluster.push({ id: s.id, lane })
    clusterEnd = cluster.length === 1 ? s.end : Math.max(clusterEnd, s.end)
  }
  flush()
  return out
}

export function spanOf(a: Appointment): Span {
  const start = minutesOf(a.start)
  return { id: a.appointment_id, start, end: start + a.duration_min }
}

/** Whole hours to draw: the opening hours (and any appointment) with an hour of margin. */
export function hourRange(days: Day[], fallback: [number, number] = [8 * 60, 21 * 60]): [number, number] {
  let lo = Infinity
  let hi = -Infinity
  for (const d of days) {
    for (const h of d.hours) {
      lo = Math.min(lo, minutesOf(`T${h.start}`))
      hi = Math.max(hi, minutesOf(`T${h.end}`))
    }
    for (const a of d.appointments) {
      const s = spanOf(a)
      lo = Math.min(lo, s.start)
      hi = Math.max(hi, s.end)
    }
  }
  if (lo === Infinity) return fallback
  const start = Math.max(0, Math.floor(lo / 60) * 60 - 60)
  const end = Math.min(24 * 60, Math.ceil(hi / 60) * 60 + 60)
  return [start, end]
}

/** Minute ranges outside opening hours between `from` and `to` (all of it on a closed day). */
export function closedRanges(day: Day, from: number, to: number): [number, number][] {
  if (day.closed || !day.hours.length) return [[from, to]]
  const out: [number, number][] = []
  let cur = from
  for (const h of [...day.hours].sort((a, b) => a.start.localeCompare(b.start))) {
    const s = Math.max(from, minutesOf(`T${h.start}`))
    if (s > cur) out.push([cur, s])
    cur = Math.max(cur, minutesOf(`T${h.end}`))
  }
  if (cur < to) out.push([cur, to])
  return out
}

export interface ConflictData {
  resource?: 'cabinet' | 'professional' | 'patient' | string
  conflict_with?: { start?: string; end?: string; patient_name?: string | null; cabinet_id?: string; professional_id?: string }
}

/**
 * The 409 of a booking, said in the user's language from the structured `data` of the error
 * ("Gabinete 1 ya está ocupado de 10:00 a 10:30 con Lucía…"); null when `data` lacks it.
 */
export function conflictText(
  data: unknown,
  t: (k: string, p?: Record<string, unknown>) => string,
  names: { cabinet: (id: string) => string | undefined; professional: (id: string) => string | undefined },
): string | null {
  const c = (data ?? {}) as ConflictData
  const w = c.conflict_with
  if (!w?.start || !w.end) return null
  const params0 = { start: hhmm(minutesOf(w.start)), end: hhmm(minutesOf(w.end)) }
  // The patient already has an appointment at that time, in another chair: say where.
  if (c.resource === 'patient') {
    const where = names.cabinet(w.cabinet_id ?? '') ?? t('agenda.cabinet')
    return t('agenda.conflictPatient', { ...params0, resource: where })
  }
  const isPro = c.resource === 'professional'
  const resource = (isPro ? names.professional(w.professional_id ?? '') : names.cabinet(w.cabinet_id ?? '')) ?? t(isPro ? 'agenda.professional' : 'agenda.cabinet')
  const params = { resource, start: hhmm(minutesOf(w.start)), end: hhmm(minutesOf(w.end)) }
  const main = t(isPro ? 'agenda.conflictProfessional' : 'agenda.conflictCabinet', params)
  return w.patient_name ? `${main} ${t('agenda.conflictWith', { patient: w.patient_name })}` : main
}
