// Orthodontic cases (chalicelib/ortho, ADRs 0661-0662): a patient's cases (plan, phases,
// milestones, visits, aligner trays, progress photos), the clinic's active cases, due alerts
// with a once-a-day reminder, and the case figures. `clinical.ortho.read` / `.write`.
import { api } from './http'
import type { Page } from './types'

export type Appliance = 'brackets' | 'aligners' | 'functional' | 'retainer' | 'other'
export const APPLIANCES: Appliance[] = ['brackets', 'aligners', 'functional', 'retainer', 'other']
export type BracketMaterial = 'metal' | 'ceramic' | 'lingual'
export const MATERIALS: BracketMaterial[] = ['metal', 'ceramic', 'lingual']
export type Arches = 'upper' | 'lower' | 'both'
export type PhaseKind = 'levelling' | 'space_closure' | 'finishing' | 'retention' | 'custom'
export const PHASE_KINDS: PhaseKind[] = ['levelling', 'space_closure', 'finishing', 'retention', 'custom']
export type AlertKind = 'visit' | 'tray' | 'retention'

export interface Phase {
  kind: PhaseKind; name: string | null
  planned_start: string | null; planned_end: string | null; actual_start: string | null; actual_end: string | null
}
export interface Milestone { what: string; planned_date: string | null; done_date: string | null }
export interface Photo { image_id: string; taken_on: string | null }
export interface CaseIn {
  appliance: Appliance; bracket_material?: BracketMaterial | null; total_trays?: number | null; days_per_tray?: number | null
  arches: Arches; start_date: string; planned_months: number; visit_interval_weeks: number
  phases: Phase[]; milestones: Milestone[]; current_tray?: number | null
}
export interface OrthoCase extends Required<Omit<CaseIn, 'current_tray'>> {
  case_id: string; patient_id: string; status: 'active' | 'finished'; planned_end: string
  current_phase: number | null; current_tray: number | null; tray_since: string | null; next_tray_date: string | null
  last_visit: string | null; next_visit_due: string | null; photos: Photo[]; finished_on: string | null
  created_at: string; updated_at: string; version: number
}
export interface CaseSummary extends OrthoCase { patient_name: string | null }
export interface Visit { visit_id: string; case_id: string; date: string; note: string | null; appointment_id: string | null; tray: number | null; created_at: string }
export interface VisitIn { date: string; note?: string | null; appointment_id?: string | null; tray?: number | null }
export interface OrthoAlert {
  case_id: string; patient_id: string; patient_name: string | null; kind: AlertKind; due: string; days_overdue: number
  appliance: Appliance | null; current_tray: number | null; total_trays: number | null; reminded_today: boolean
}
export interface Reminder { case_id: string; patient_id: string; kind: AlertKind; channel: string; message_id: string; sent_on: string }
export interface Figures {
  month: string; active: number; started_this_month: number; finished_this_month: number; finished_total: number
  average_months: number | null; average_planned_months: number | null
}

const cases = (pid: string) => `/patients/${pid}/ortho/cases`
const one = (pid: string, id: string) => `${cases(pid)}/${id}`

export const orthoApi = {
  list: (pid: string) => api.get<Page<OrthoCase>>(cases(pid), { query: { limit: 50 } }),
  start: (pid: string, body: CaseIn) => api.post<OrthoCase>(cases(pid), body),
  update: (pid: string, id: string, body: CaseIn) => api.put<OrthoCase>(one(pid, id), body),
  finish: (pid: string, id: string, finished_on: string) => api.post<OrthoCase>(`${one(pid, id)}/finish`, { finished_on }),
  visits: (pid: string, id: string, cursor?: string | null) => api.get<Page<Visit>>(`${one(pid, id)}/visits`, { query: { limit: 10, cursor } }),
  addVisit: (pid: string, id: string, body: VisitIn) => api.post<Visit>(`${one(pid, id)}/visits`, body),
  changeTray: (pid: string, id: string, tray: number, date: string) => api.post<OrthoCase>(`${one(pid, id)}/tray-changes`, { tray, date }),
  linkPhotos: (pid: string, id: string, image_ids: string[]) => api.post<OrthoCase>(`${one(pid, id)}/photos`, { image_ids }),
  unlinkPhoto: (pid: string, id: string, imageId: string) => api.del(`${one(pid, id)}/photos/${imageId}`),
  remind: (pid: string, id: string, kind: AlertKind) => api.post<Reminder>(`${one(pid, id)}/reminders`, { kind }),
  active: (cursor?: string | null) => api.get<Page<CaseSummary>>('/ortho/cases', { query: { limit: 20, cursor } }),
  alerts: (cursor?: string | null, limit = 20) => api.get<Page<OrthoAlert>>('/ortho/alerts', { query: { limit, cursor } }),
  figures: () => api.get<Figures>('/ortho/figures'),
}

/** The plan of a case, as the PUT takes it back. */
export function planOf(c: OrthoCase): CaseIn {
  return {
    appliance: c.appliance, bracket_material: c.bracket_material, total_trays: c.total_trays, days_per_tray: c.days_per_tray,
    arches: c.arches, start_date: c.start_date, planned_months: c.planned_months, visit_interval_weeks: c.visit_interval_weeks,
    phases: c.phases.map((p) => ({ ...p })), milestones: c.milestones.map((m) => ({ ...m })), current_tray: c.current_tray,
  }
}

/** 'YYYY-MM-DD' plus days, in calendar terms (no time zone drift). */
export function addDays(iso: string, days: number): string {
  const [y, m, d] = iso.split('-').map(Number)
  const t = new Date(Date.UTC(y, m - 1, d + days))
  return t.toISOString().slice(0, 10)
}

/** Today's date where the browser is ('YYYY-MM-DD'). */
export function todayIso(now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`
}

/** The usual phases of a new case, their planned dates spread over the planned months. */
export function defaultPhases(appliance: Appliance, start: string, months: number): Phase[] {
  const kinds: PhaseKind[] = appliance === 'retainer' ? ['retention'] : ['levelling', 'space_closure', 'finishing', 'retention']
  const active = kinds.filter((k) => k !== 'retention')
  const total = Math.max(1, Math.round(months * 30.44))
  const span = active.length ? Math.floor(total / active.length) : total
  let at = start
  return kinds.map((kind, i) => {
    const last = kind === 'retention'
    const from = at
    const to = last ? null : i === active.length - 1 ? addDays(start, total) : addDays(from, span)
    if (to) at = to
    return { kind, name: null, planned_start: from, planned_end: to, actual_start: i === 0 ? start : null, actual_end: null }
  })
}

/** How far along the plan a case is, 0-100 (by dates). */
export function progress(c: Pick<OrthoCase, 'start_date' | 'planned_end' | 'finished_on'>, today: string): number {
  if (c.finished_on) return 100
  const start = Date.parse(c.start_date), end = Date.parse(c.planned_end), now = Date.parse(today)
  if (!(end > start)) return 0
  return Math.max(0, Math.min(100, Math.round(((now - start) / (end - start)) * 100)))
}

/** The two photos to compare by default: the first and the last of the series. */
export function comparePair(photos: Photo[]): [Photo | null, Photo | null] {
  if (!photos.length) return [null, null]
  return [photos[0], photos.length > 1 ? photos[photos.length - 1] : null]
}
