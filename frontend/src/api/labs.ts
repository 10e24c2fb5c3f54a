// Labs and lab cases (chalicelib/labs): the labs directory, cases with their status machine,
// history, files and the lab's signed link, and the alerts. `labs.read` / `labs.write`.
import { api } from './http'
import { postToS3, type UploadForm } from './imaging'
import type { Page } from './types'

export const WORK_TYPES = ['crown', 'bridge', 'veneer', 'inlay_onlay', 'implant_crown', 'denture', 'night_guard', 'aligners', 'retainer', 'other'] as const
export type WorkType = (typeof WORK_TYPES)[number]
export const STATUSES = ['draft', 'sent', 'in_progress', 'shipped', 'received', 'fitted', 'returned_for_remake'] as const
export type CaseStatus = (typeof STATUSES)[number]
export type Alert = 'overdue' | 'not_back'

export interface Lab { lab_id: string; name: string; contact: string | null; email: string; phone: string | null; notes: string | null; archived: boolean; created_at: string; updated_at: string }
export interface LabIn { name: string; contact: string | null; email: string; phone: string | null; notes: string | null; archived?: boolean }
export interface HistoryEntry { from_status: string | null; to_status: CaseStatus; at: string; by: 'staff' | 'lab'; by_name: string | null; note: string | null }
export interface CaseFile { file_id: string; filename: string; kind: string; content_type: string; size: number; status: 'pending' | 'available'; by: 'staff' | 'lab'; uploaded_at: string | null; url: string | null }
export interface LabCase {
  case_id: string; patient_id: string; patient_name: string | null; lab_id: string; lab_name: string | null
  appointment_id: string | null; appointment_start: string | null; teeth: number[]; work_type: WorkType
  shade: string | null; material: string | null; instructions: string | null; priority: 'normal' | 'urgent'
  due_date: string; expected_delivery: string | null; status: CaseStatus; alerts: Alert[]
  history: HistoryEntry[]; files: CaseFile[]; link_active: boolean; link_expires_at: string | null; sent_to: string | null
  created_at: string; updated_at: string; version: number
}
export interface CaseFields {
  lab_id: string; appointment_id: string | null; teeth: number[]; work_type: WorkType; shade: string | null
  material: string | null; instructions: string | null; priority: 'normal' | 'urgent'; due_date: string
}
export interface CaseIn extends CaseFields { patient_id: string }
export interface SendOut { case: LabCase; link: string; link_expires_at: string; emailed_to: string | null }

/** The moves the clinic makes from a status (``sent`` only by sending the link; ADR 1222). */
const STAFF_MOVES: Record<CaseStatus, CaseStatus[]> = {
  draft: [],
  sent: ['in_progress'],
  in_progress: ['shipped'],
  shipped: ['received'],
  received: ['fitted', 'returned_for_remake'],
  fitted: [],
  returned_for_remake: ['in_progress'],
}
export const staffMoves = (s: CaseStatus): CaseStatus[] => STAFF_MOVES[s] ?? []
export const canSend = (s: CaseStatus) => s === 'draft' || s === 'sent' || s === 'in_progress' || s === 'returned_for_remake'
export const editable = canSend

/** "11, 21 36" -> [11, 21, 36]; null when a number is not an FDI tooth. */
export function parseTeeth(text: string): number[] | null {
  const parts = text.split(/[\s,;]+/).filter(Boolean)
  const out: number[] = []
  for (const p of parts) {
    if (!/^\d{2}$/.test(p)) return null
    const n = Number(p), q = Math.floor(n / 10), u = n % 10
    const ok = (q >= 1 && q <= 4 && u >= 1 && u <= 8) || (q >= 5 && q <= 8 && u >= 1 && u <= 5)
    if (!ok) return null
    if (!out.includes(n)) out.push(n)
  }
  return out.sort((a, b) => a - b)
}

/** Cases with alerts first, then by due date (the dashboard's order). */
export function dashboardOrder(cases: LabCase[]): LabCase[] {
  return [...cases].sort((a, b) => Number(b.alerts.length > 0) - Number(a.alerts.length > 0) || a.due_date.localeCompare(b.due_date) || a.case_id.localeCompare(b.case_id))
}

/** A live event that concerns lab cases (of this patient, when given). */
export function concernsLabs(ev: { type: string; data: Record<string, unknown> }, patientId?: string): boolean {
  return ev.type.startsWith('lab.') && (!patientId || ev.data.patient_id === patientId)
}

const FILE_TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', pdf: 'application/pdf', stl: 'model/stl', ply: 'application/octet-stream', obj: 'application/octet-stream', zip: 'application/zip' }
export const FILE_ACCEPT = Object.keys(FILE_TYPES).map((e) => `.${e}`).join(',')
export function fileType(name: string): string | null {
  const ext = name.includes('.') ? name.split('.').pop()!.toLowerCase() : ''
  return FILE_TYPES[ext] ?? null
}

export const labsApi = {
  labs: (archived = false) => api.get<Page<Lab>>('/labs', { query: { archived, limit: 100 } }),
  createLab: (body: LabIn) => api.post<Lab>('/labs', body),
  updateLab: (id: string, body: LabIn & { archived: boolean }) => api.put<Lab>(`/labs/${id}`, body),
  cases: (q: { status?: string | null; lab_id?: string | null; cursor?: string | null; limit?: number }) => api.get<Page<LabCase>>('/labs/cases', { query: { ...q, limit: q.limit ?? 50 } }),
  alerts: () => api.get<Page<LabCase>>('/labs/alerts', { query: { limit: 100 } }),
  get: (id: string) => api.get<LabCase>(`/labs/cases/${id}`),
  create: (body: CaseIn) => api.post<LabCase>('/labs/cases', body),
  update: (id: string, body: CaseFields) => api.put<LabCase>(`/labs/cases/${id}`, body),
  move: (id: string, status: CaseStatus, note: string | null) => api.post<LabCase>(`/labs/cases/${id}/status`, { status, note }),
  send: (id: string) => api.post<SendOut>(`/labs/cases/${id}/send`, {}),
  revoke: (id: string) => api.del<LabCase>(`/labs/cases/${id}/link`),
  forPatient: (pid: string) => api.get<Page<LabCase>>(`/patients/${pid}/lab-cases`, { query: { limit: 100 } }),
  forAppointment: (aid: string) => api.get<LabCase[]>(`/appointments/${aid}/lab-cases`),
  async upload(caseId: string, file: File, onProgress: (p: number) => void = () => {}): Promise<CaseFile> {
    const out = await api.post<{ file: CaseFile; upload: UploadForm }>(`/labs/cases/${caseId}/files`, { filename: file.name, content_type: fileType(file.name) ?? 'application/octet-stream', size: file.size })
    await postToS3(out.upload, file, onProgress)
    return api.post<CaseFile>(`/labs/cases/${caseId}/files/${out.file.file_id}/complete`)
  },
}
