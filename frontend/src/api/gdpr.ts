// A patient's data exports (GDPR access and portability, ADR 1401): start one, list them, read
// one (with a five-minute download link once it is ready; each link is audited).
import { api } from './http'
import type { Page } from './types'

export type ExportStatus = 'pending' | 'building' | 'ready' | 'failed' | 'expired'
export interface ExportOut {
  export_id: string; patient_id: string; status: ExportStatus
  reason: string | null; reason_es: string | null; reason_code: string | null
  requested_by_name: string | null; created_at: string; finished_at: string | null; valid_until: string
  size: number | null; files: number | null; sections: Record<string, number> | null
  download_url: string | null; download_expires_at: string | null
}

const base = (pid: string) => `/patients/${pid}/exports`

export const gdprApi = {
  list: (pid: string) => api.get<Page<ExportOut>>(base(pid), { query: { limit: 20 } }),
  start: (pid: string) => api.post<ExportOut>(base(pid)),
  get: (pid: string, id: string) => api.get<ExportOut>(`${base(pid)}/${id}`),
}

/** Still being worked on: the dialog polls while one is. */
export const running = (e: Pick<ExportOut, 'status'>) => e.status === 'pending' || e.status === 'building'
