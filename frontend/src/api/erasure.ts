// A patient's GDPR erasure (art. 17) and the clinic's retention periods (ADR 1405): the preview
// of what is erased and kept (why, until when), the request, its state and report.
import { api } from './http'

export type Category = 'none' | 'clinical' | 'billing'
export interface KindRow {
  kind: string; category: Category; label: string; label_es: string; count: number
  action: 'erase' | 'keep' | 'erased' | 'kept' | 'purged'; until: string | null; basis: string; basis_es: string
}
export type ErasureStatus = 'pending' | 'running' | 'done' | 'purged'
export type ReasonCode = 'patient_request' | 'consent_withdrawn' | 'unlawful' | 'legal_obligation'
export const REASONS: ReasonCode[] = ['patient_request', 'consent_withdrawn', 'unlawful', 'legal_obligation']
export interface ErasureOut {
  erasure_id: string; status: ErasureStatus; reason_code: ReasonCode; created_at: string; finished_at: string | null
  until: Record<string, string>; report: KindRow[]
}
export interface ErasureView { patient_id: string; erasure: ErasureOut | null; preview: KindRow[] | null }
export interface RetentionOut {
  periods: Record<string, number>
  minimums: Record<string, number>
  /** Years a patient's messages are kept; null: until the patient's record goes. */
  messages: number | null
  messages_range: { min: number; max: number }
  updated_at: string | null
}

export const erasureApi = {
  get: (pid: string) => api.get<ErasureView>(`/patients/${pid}/erasure`),
  request: (pid: string, body: { reason_code: ReasonCode; confirm_name: string }) => api.post<ErasureView>(`/patients/${pid}/erasure`, body),
  retention: () => api.get<RetentionOut>('/settings/retention'),
  setRetention: (body: { clinical?: number; billing?: number; messages?: number | null }) => api.put<RetentionOut>('/settings/retention', body),
}

/** Still being worked on: the dialog polls while it is. */
export const working = (e: ErasureOut | null) => !!e && (e.status === 'pending' || e.status === 'running')
/** Rows kept (blocked), as the preview or the report says. */
export const keptRows = (rows: KindRow[]) => rows.filter((r) => r.action === 'keep' || r.action === 'kept')
export const goneRows = (rows: KindRow[]) => rows.filter((r) => r.action !== 'keep' && r.action !== 'kept')
