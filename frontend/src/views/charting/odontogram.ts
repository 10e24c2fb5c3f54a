// The odontogram's pure logic: which rows of FDI teeth a dentition shows (the patient's right
// on the left of the screen), where each surface is drawn on a tooth, keyboard moves between
// teeth, and what each tooth carries (findings and planned work) for drawing.
import { CODES, type Dentition, type Finding, type PlanItem, type Surface } from '@/api/charting'

const range = (q: number, n: number, down: boolean) => Array.from({ length: n }, (_, i) => q * 10 + (down ? n - i : i + 1))
export const PERMANENT_ROWS = [
  [...range(1, 8, true), ...range(2, 8, false)],
  [...range(4, 8, true), ...range(3, 8, false)],
]
export const DECIDUOUS_ROWS = [
  [...range(5, 5, true), ...range(6, 5, false)],
  [...range(8, 5, true), ...range(7, 5, false)],
]

/** Rows top to bottom: upper permanent, [upper deciduous, lower deciduous,] lower permanent. */
export function rowsFor(d: Dentition): number[][] {
  if (d === 'deciduous') return DECIDUOUS_ROWS
  if (d === 'mixed') return [PERMANENT_ROWS[0]!, DECIDUOUS_ROWS[0]!, DECIDUOUS_ROWS[1]!, PERMANENT_ROWS[1]!]
  return PERMANENT_ROWS
}

export const isUpper = (tooth: number) => [1, 2, 5, 6].includes(Math.floor(tooth / 10))
/** Teeth of the patient's right (quadrants 1, 4, 5, 8) are drawn on the left: their mesial side faces right. */
export const isPatientRight = (tooth: number) => [1, 4, 5, 8].includes(Math.floor(tooth / 10))

export type Side = 'top' | 'bottom' | 'left' | 'right' | 'center'
/** Where a surface sits on the drawn crown: vestibular faces out of the mouth (up on the upper
 *  arch, down on the lower), mesial faces the midline. */
export function sideOf(tooth: number, s: Surface): Side | 'root' {
  if (s === 'R') return 'root'
  if (s === 'O') return 'center'
  if (s === 'V') return isUpper(tooth) ? 'top' : 'bottom'
  if (s === 'L') return isUpper(tooth) ? 'bottom' : 'top'
  const mesialRight = isPatientRight(tooth)
  if (s === 'M') return mesialRight ? 'right' : 'left'
  return mesialRight ? 'left' : 'right'
}

/** The crown's five areas in a 40×40 box. */
export const AREAS: Record<Side, string> = {
  top: '0,0 40,0 28,12 12,12',
  bottom: '0,40 40,40 28,28 12,28',
  left: '0,0 12,12 12,28 0,40',
  right: '40,0 28,12 28,28 40,40',
  center: '12,12 28,12 28,28 12,28',
}

/** Arrow keys over the rows: left/right along a row, up/down to the nearest tooth of the next row. */
export function move(rows: number[][], tooth: number, key: string): number {
  const r = rows.findIndex((row) => row.includes(tooth))
  if (r < 0) return rows[0]![0]!
  const row = rows[r]!
  const c = row.indexOf(tooth)
  if (key === 'ArrowRight') return row[Math.min(row.length - 1, c + 1)]!
  if (key === 'ArrowLeft') return row[Math.max(0, c - 1)]!
  if (key === 'Home') return row[0]!
  if (key === 'End') return row[row.length - 1]!
  const nr = key === 'ArrowDown' ? Math.min(rows.length - 1, r + 1) : key === 'ArrowUp' ? Math.max(0, r - 1) : r
  if (nr === r) return tooth
  const target = rows[nr]!
  // keep the same place across rows of different lengths (permanent 16, deciduous 10)
  const pos = (c + 0.5) / row.length
  return target[Math.min(target.length - 1, Math.floor(pos * target.length))]!
}

export type Mark = 'condition' | 'existing' | 'planned'
export interface ToothState {
  surfaces: Partial<Record<Surface, Mark>>
  whole: Mark | null // a whole-tooth finding (crown, implant, missing...) or planned work
  missing: boolean
  labels: { text: string; mark: Mark }[]
}

const rank: Record<Mark, number> = { existing: 1, planned: 2, condition: 3 }
function put(st: ToothState, s: Surface, m: Mark) {
  const cur = st.surfaces[s]
  if (!cur || rank[m] > rank[cur]) st.surfaces[s] = m
}

/** Per tooth, what to draw: findings (conditions above existing work) and planned items. */
export function toothStates(findings: Finding[], plan: PlanItem[]): Map<number, ToothState> {
  const out = new Map<number, ToothState>()
  const at = (t: number) => {
    let st = out.get(t)
    if (!st) out.set(t, (st = { surfaces: {}, whole: null, missing: false, labels: [] }))
    return st
  }
  for (const f of findings) {
    const teeth = f.teeth.length ? f.teeth : f.tooth != null ? [f.tooth] : []
    const mark: Mark = f.kind
    for (const t of teeth) {
      const st = at(t)
      st.labels.push({ text: CODES[f.code]?.abbr ?? f.code, mark })
      if (f.code === 'missing') st.missing = true
      if (f.surfaces.length) for (const s of f.surfaces) put(st, s, mark)
      else if (!st.whole || rank[mark] > rank[st.whole]) st.whole = mark
    }
  }
  for (const p of plan) {
    if (p.status !== 'planned') continue
    for (const t of p.teeth) {
      const st = at(t)
      st.labels.push({ text: p.treatment_code, mark: 'planned' })
      if (p.surfaces.length) for (const s of p.surfaces) put(st, s, 'planned')
      else if (!st.whole) st.whole = 'planned'
    }
  }
  return out
}

/** The teeth a span finding could cover from `tooth`: parse "14, 15, 16" or "14-16" into numbers. */
export function parseTeeth(text: string): number[] {
  const out: number[] = []
  for (const part of text.split(/[\s,;]+/).filter(Boolean)) {
    const m = /^(\d{2})-(\d{2})$/.exec(part)
    if (m) {
      const [a, b] = [Number(m[1]), Number(m[2])]
      if (Math.floor(a / 10) === Math.floor(b / 10)) for (let t = Math.min(a, b); t <= Math.max(a, b); t++) out.push(t)
      else out.push(a, b)
    } else if (/^\d{2}$/.test(part)) out.push(Number(part))
  }
  return [...new Set(out)]
}
