// The dental chart and treatment plan (chalicelib/charting): the chart now or as of a day,
// findings (recorded, superseded, resolved), plan items from the catalog, a budget from the
// plan in one step, completion, and the front desk's completed-not-invoiced list.
// `clinical.chart.read` / `clinical.chart.write` (a budget also needs `billing.budgets.write`).
import { api } from './http'
import type { Page } from './types'

export type Dentition = 'permanent' | 'mixed' | 'deciduous'
export type Surface = 'M' | 'D' | 'O' | 'V' | 'L' | 'R'
export const CROWN_SURFACES: Surface[] = ['M', 'D', 'O', 'V', 'L']
export const SURFACES: Surface[] = [...CROWN_SURFACES, 'R']
export type Kind = 'condition' | 'existing'
export type Placement = 'surfaces' | 'tooth' | 'tooth_or_surfaces' | 'root' | 'span'

/** The documented catalogue (docs/adr/0602): where each code goes and whether it takes a material. */
export const CODES: Record<string, { kind: Kind; placement: Placement; materials?: boolean; abbr: string }> = {
  caries: { kind: 'condition', placement: 'surfaces', abbr: 'C' },
  fracture: { kind: 'condition', placement: 'tooth_or_surfaces', abbr: 'Fx' },
  wear: { kind: 'condition', placement: 'surfaces', abbr: 'Ds' },
  missing: { kind: 'condition', placement: 'tooth', abbr: 'X' },
  impacted: { kind: 'condition', placement: 'tooth', abbr: 'In' },
  root_remnant: { kind: 'condition', placement: 'tooth', abbr: 'RR' },
  periapical_lesion: { kind: 'condition', placement: 'root', abbr: 'LP' },
  mobility: { kind: 'condition', placement: 'tooth', abbr: 'Mv' },
  filling: { kind: 'existing', placement: 'surfaces', materials: true, abbr: 'O' },
  sealant: { kind: 'existing', placement: 'surfaces', abbr: 'S' },
  inlay: { kind: 'existing', placement: 'surfaces', materials: true, abbr: 'Ic' },
  crown: { kind: 'existing', placement: 'tooth', materials: true, abbr: 'Co' },
  veneer: { kind: 'existing', placement: 'tooth', materials: true, abbr: 'Ca' },
  implant: { kind: 'existing', placement: 'tooth', abbr: 'Im' },
  root_canal: { kind: 'existing', placement: 'root', abbr: 'E' },
  post: { kind: 'existing', placement: 'root', abbr: 'P' },
  bridge: { kind: 'existing', placement: 'span', materials: true, abbr: 'Pt' },
  orthodontic_appliance: { kind: 'existing', placement: 'span', abbr: 'Or' },
}
export const MATERIALS = ['composite', 'amalgam', 'glass_ionomer', 'ceramic', 'zirconia', 'metal_ceramic', 'metal', 'gold', 'temporary'] as const

export interface Finding {
  finding_id: string; code: string; kind: Kind; tooth: number | null; teeth: number[]; surfaces: Surface[]
  material: string | null; note: string | null; plan_item_id: string | null; supersedes: string | null
  recorded_at: string; recorded_by: string; recorded_by_name: string | null; ended_at: string | null; end_reason: string | null
}
export interface FindingIn {
  code: string; tooth?: number | null; teeth?: number[]; surfaces?: string[]; material?: string | null; note?: string | null; supersedes?: string | null
}
export interface PlanItem {
  item_id: string; treatment_id: string; treatment_code: string; name: string; scope: string
  tooth: number | null; surfaces: Surface[]; sextant: number | null; quadrant: number | null; region: string; teeth: number[]
  result_code: string | null; material: string | null; note: string | null; status: 'planned' | 'completed' | 'cancelled'
  created_at: string; budget_id: string | null; budget_number: string | null; completed_at: string | null
  result_finding_id: string | null; invoiced: boolean; invoice_id: string | null
}
export interface PlanItemIn {
  treatment_id: string; tooth?: number | null; surfaces?: string[]; sextant?: number | null; quadrant?: number | null
  result_code?: string | null; material?: string | null; note?: string | null
}
export interface Chart {
  patient_id: string; as_of: string | null; dentition: Dentition; findings: Finding[]; plan: PlanItem[]; xray_teeth: number[]; dates: string[]
}
export interface BudgetFromPlan { budget_id: string; number: string; total: string; items: PlanItem[] }
export interface Uninvoiced {
  item_id: string; patient_id: string; patient_name: string; treatment_code: string; name: string; tooth: number | null; region: string
  completed_at: string; budget_id: string | null; budget_number: string | null
}

export const chartingApi = {
  chart: (pid: string, asOf?: string | null, dentition?: Dentition | null) =>
    api.get<Chart>(`/patients/${pid}/chart`, { query: { as_of: asOf, dentition } }),
  record: (pid: string, body: FindingIn) => api.post<Finding>(`/patients/${pid}/chart/findings`, body),
  resolve: (pid: string, fid: string) => api.post<Finding>(`/patients/${pid}/chart/findings/${fid}/resolve`, {}),
  plan: (pid: string, body: PlanItemIn) => api.post<PlanItem>(`/patients/${pid}/chart/plan`, body),
  budget: (pid: string, itemIds: string[]) => api.post<BudgetFromPlan>(`/patients/${pid}/chart/plan/budget`, { item_ids: itemIds }),
  complete: (pid: string, itemId: string) => api.post<PlanItem>(`/patients/${pid}/chart/plan/${itemId}/complete`, {}),
  cancel: (pid: string, itemId: string) => api.post<PlanItem>(`/patients/${pid}/chart/plan/${itemId}/cancel`),
  uninvoiced: (cursor?: string | null) => api.get<Page<Uninvoiced>>('/charting/uninvoiced', { query: { cursor } }),
}
