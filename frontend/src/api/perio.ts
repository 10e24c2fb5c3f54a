// Periodontal exams (chalicelib/perio, ADR 0621/0622): a patient's exams, a draft saved as the
// hygienist goes, completion (locked), amendments, the comparison with the previous exam.
// `clinical.perio.read` / `.write`. Also the chart's pure rules the screen needs live: the
// sites' screen order, the dictation path and the indices (the same as chalicelib/perio/chart.py).
import { api } from './http'
import type { Page } from './types'

export type SiteCode = 'MB' | 'B' | 'DB' | 'ML' | 'L' | 'DL'
export type ToothState = 'present' | 'missing' | 'implant'
export const SITES: SiteCode[] = ['MB', 'B', 'DB', 'ML', 'L', 'DL']
export const BUCCAL: SiteCode[] = ['MB', 'B', 'DB']
export const LINGUAL: SiteCode[] = ['ML', 'L', 'DL']
export const PD_MAX = 15
export const GM_MIN = -10
export const GM_MAX = 15
export const CHANGE_MM = 2

/** Upper arch as seen facing the patient: 18 … 11 | 21 … 28; lower: 48 … 41 | 31 … 38. */
export const UPPER = ['18', '17', '16', '15', '14', '13', '12', '11', '21', '22', '23', '24', '25', '26', '27', '28']
export const LOWER = ['48', '47', '46', '45', '44', '43', '42', '41', '31', '32', '33', '34', '35', '36', '37', '38']
export const MULTI_ROOTED = new Set(['14', '24', ...['1', '2', '3', '4'].flatMap((q) => ['6', '7', '8'].map((n) => q + n))])

export interface Site { pd: number | null; gm: number; bop: boolean; sup: boolean; plaque: boolean; cal?: number | null }
export interface Tooth { state: ToothState; mobility: number | null; furcation: number | null; sites: Partial<Record<SiteCode, Site>> }
export type Chart = Record<string, Tooth>

export interface Indices {
  sites_examined: number; teeth_examined: number; teeth_missing: number; implants: number
  bop_sites: number; bop_percent: number | null; plaque_sites: number; plaque_percent: number | null
  suppuration_sites: number; sites_pd_ge4: number; sites_pd_ge6: number; mean_pd: number | null; mean_cal: number | null
}
export interface ExamSummary {
  exam_id: string; patient_id: string; exam_date: string; appointment_id: string | null; status: 'draft' | 'completed'
  examiner_id: string; examiner_name: string | null; amends: string | null; amended_by: string | null
  indices: Indices; created_at: string; updated_at: string; completed_at: string | null; completed_by_name: string | null; version: number
}
export interface Exam extends ExamSummary { teeth: Chart; previous_exam_id: string | null }
export interface SiteChange {
  tooth: string; site: SiteCode; pd_before: number; pd_after: number; pd_delta: number
  cal_before: number | null; cal_after: number | null; cal_delta: number | null; bop_before: boolean; bop_after: boolean
  change: 'improved' | 'worse' | 'stable'
}

export const perioApi = {
  list: (patientId: string, cursor?: string | null, limit = 20) =>
    api.get<Page<ExamSummary>>(`/patients/${patientId}/perio-exams`, { query: { limit, cursor } }),
  start: (patientId: string, body: { exam_date?: string; appointment_id?: string | null; amends?: string; teeth?: Chart }) =>
    api.post<Exam>(`/patients/${patientId}/perio-exams`, body),
  get: (examId: string) => api.get<Exam>(`/perio/exams/${examId}`),
  save: (examId: string, version: number, teeth: Chart) => api.put<Exam>(`/perio/exams/${examId}`, { version, teeth: toInput(teeth) }),
  complete: (examId: string, version: number) => api.post<Exam>(`/perio/exams/${examId}/complete`, { version }),
  discard: (examId: string) => api.del<null>(`/perio/exams/${examId}`),
}

export const emptySite = (): Site => ({ pd: null, gm: 0, bop: false, sup: false, plaque: false })
export const emptyTooth = (): Tooth => ({ state: 'present', mobility: null, furcation: null, sites: {} })

/** The chart as the API takes it: no computed CAL, no empty sites or teeth. */
export function toInput(chart: Chart): Chart {
  const out: Chart = {}
  for (const [tooth, t] of Object.entries(chart)) {
    const sites: Tooth['sites'] = {}
    if (t.state === 'present') {
      for (const code of SITES) {
        const s = t.sites[code]
        if (s && (s.pd !== null || s.gm !== 0 || s.bop || s.sup || s.plaque)) sites[code] = { pd: s.pd, gm: s.gm, bop: s.bop, sup: s.sup, plaque: s.plaque }
      }
    }
    const keep = t.state !== 'present' || t.mobility !== null || t.furcation !== null || Object.keys(sites).length
    if (keep) out[tooth] = { state: t.state, mobility: t.state === 'present' ? t.mobility : null, furcation: t.state === 'present' ? t.furcation : null, sites }
  }
  return out
}

/** The three sites of one side of a tooth, left to right on screen: the distal site is towards
 * the outside of the arch, so 11–18 and 41–48 (on the viewer's left) show D · mid · M. */
export function screenSites(tooth: string, side: 'buccal' | 'lingual'): SiteCode[] {
  const sites = side === 'buccal' ? BUCCAL : LINGUAL
  return tooth[0] === '1' || tooth[0] === '4' ? [...sites].reverse() : [...sites]
}

export interface Pos { tooth: string; site: SiteCode }

/** The dictation path: upper buccal 18→28, upper palatal 28→18, lower lingual 38→48, lower
 * buccal 48→38; each tooth's sites in the direction of travel; missing teeth and implants skipped. */
export function dictationPath(chart: Chart): Pos[] {
  const out: Pos[] = []
  const leg = (teeth: string[], side: 'buccal' | 'lingual', reverse: boolean) => {
    const order = reverse ? [...teeth].reverse() : teeth
    for (const tooth of order) {
      if ((chart[tooth]?.state ?? 'present') !== 'present') continue
      const sites = screenSites(tooth, side)
      for (const site of reverse ? [...sites].reverse() : sites) out.push({ tooth, site })
    }
  }
  leg(UPPER, 'buccal', false)
  leg(UPPER, 'lingual', true)
  leg(LOWER, 'lingual', true)
  leg(LOWER, 'buccal', false)
  return out
}

export function cal(s: Site | undefined): number | null {
  return s && s.pd !== null ? s.pd + (s.gm || 0) : null
}

const pct = (n: number, d: number) => (d ? Math.round((1000 * n) / d) / 10 : null)
const mean = (v: number[]) => (v.length ? Math.round((100 * v.reduce((a, b) => a + b, 0)) / v.length) / 100 : null)

/** The indices over the probed sites of present teeth (chart.indices in the API). */
export function indices(chart: Chart): Indices {
  const probed: Site[] = []
  const teeth = new Set<string>()
  let missing = 0
  let implants = 0
  for (const [tooth, t] of Object.entries(chart)) {
    if (t.state === 'missing') missing++
    if (t.state === 'implant') implants++
    if (t.state !== 'present') continue
    for (const code of SITES) {
      const s = t.sites[code]
      if (s && s.pd !== null) {
        probed.push(s)
        teeth.add(tooth)
      }
    }
  }
  const n = probed.length
  const count = (f: (s: Site) => boolean) => probed.filter(f).length
  return {
    sites_examined: n, teeth_examined: teeth.size, teeth_missing: missing, implants,
    bop_sites: count((s) => s.bop), bop_percent: pct(count((s) => s.bop), n),
    plaque_sites: count((s) => s.plaque), plaque_percent: pct(count((s) => s.plaque), n),
    suppuration_sites: count((s) => s.sup),
    sites_pd_ge4: count((s) => (s.pd ?? 0) >= 4), sites_pd_ge6: count((s) => (s.pd ?? 0) >= 6),
    mean_pd: mean(probed.map((s) => s.pd as number)), mean_cal: mean(probed.map((s) => cal(s) as number)),
  }
}

/** The change of a site between two exams: PD delta ≥ 2 mm is worse, ≤ −2 improved. */
export function change(before: number | null | undefined, after: number | null | undefined): 'improved' | 'worse' | 'stable' | null {
  if (before === null || before === undefined || after === null || after === undefined) return null
  const d = after - before
  return d <= -CHANGE_MM ? 'improved' : d >= CHANGE_MM ? 'worse' : 'stable'
}

/** What one key does in a site's input: a probing depth 0–9 (a leading "+" adds ten, so "+2"
 * is 12), a margin with "-" for a negative one, B/S/P toggle bleeding/suppuration/plaque,
 * X marks the tooth missing. `pending` is a "+" or "-" typed before. */
export type KeyAction =
  | { kind: 'value'; value: number }
  | { kind: 'pending'; pending: '+' | '-' }
  | { kind: 'flag'; flag: 'bop' | 'sup' | 'plaque' }
  | { kind: 'missing' }
  | { kind: 'clear' }
  | { kind: 'next' }
  | { kind: 'prev' }
  | { kind: 'none' }

export function keyAction(key: string, mode: 'pd' | 'gm', pending: '+' | '-' | null, shift = false): KeyAction {
  if (/^[0-9]$/.test(key)) {
    let v = Number(key)
    if (pending === '+') v += 10
    if (pending === '-' && mode === 'gm') v = -v
    const ok = mode === 'pd' ? v >= 0 && v <= PD_MAX : v >= GM_MIN && v <= GM_MAX
    return ok ? { kind: 'value', value: v } : { kind: 'none' }
  }
  if (key === '+') return { kind: 'pending', pending: '+' }
  if (key === '-' && mode === 'gm') return { kind: 'pending', pending: '-' }
  const k = key.toLowerCase()
  if (k === 'b') return { kind: 'flag', flag: 'bop' }
  if (k === 's') return { kind: 'flag', flag: 'sup' }
  if (k === 'p') return { kind: 'flag', flag: 'plaque' }
  if (k === 'x') return { kind: 'missing' }
  if (key === 'Backspace' || key === 'Delete') return { kind: 'clear' }
  if (key === 'Enter') return shift ? { kind: 'prev' } : { kind: 'next' }
  return { kind: 'none' }
}
