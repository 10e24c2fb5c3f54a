// VERI*FACTU (chalicelib/verifactu/contracts.py): only what the settings screen reads.
import { api } from './http'
import type { Page } from './types'

export type RecordStatus = 'pending' | 'accepted' | 'accepted_with_errors' | 'rejected'

/** `message` is in the caller's language; `params` are its values (nif, series, count...). */
export interface VfAlert { code: string; message: string; params?: Record<string, string | number | null> }
export interface CertificateOut {
  subject: string; nif: string | null; matches_clinic_nif: boolean; issuer: string; not_before: string; not_after: string
  expires_soon: boolean; expired: boolean; days_left: number; label: string | null
}
export interface ChainStatusOut {
  nif: string; records: number; pending: number; submission_status: string; last_sent_at: string | null
  tiempo_espera: number | null; next_attempt_at: string | null; last_error: string | null; held: boolean
}
/** GET /verifactu/status (`verifactu.read`): the ledger's state, no certificate. */
export interface StatusOut {
  environment: 'test' | 'production'
  chains: ChainStatusOut[]; blocked_series: Record<string, Record<string, string>>; alerts: VfAlert[]
}
/** GET /verifactu/settings (`verifactu.admin`): the status plus the certificate. */
export interface SettingsOut extends StatusOut {
  production_enabled_at: string | null; certificate: CertificateOut | null
}

export interface ChainBreakOut { record: string | null; num_serie: string | null; position: number; problem: string; field: string; expected: string; found: string }
export interface ChainOut { nif: string; records: number; intact: boolean; first_break: ChainBreakOut | null }
export interface VerifyOut { intact: boolean; chains: ChainOut[] }

export type DifferenceCode = 'missing_at_aeat' | 'held_but_rejected' | 'state_differs' | 'huella_differs'
export interface DifferenceOut { code: DifferenceCode | string; ours: string | null; aeat: string | null }
export interface ReconciliationOut {
  status: 'ok' | 'discrepancy'; checked_at: string; aeat_estado: string | null; differences: DifferenceOut[]; since: string | null
}
export interface RecordOut {
  record_id: string; kind: 'alta' | 'anulacion'; seq: number; nif: string; invoice_id: string; series: string; num_serie: string
  fecha_expedicion: string; status: RecordStatus; aeat_code: number | null; aeat_description: string | null
  answered_at: string | null; corrects: string | null; superseded_by: string | null; created_at: string
  reconciliation: ReconciliationOut | null; incidencia: boolean
}
export interface ReconciliationDayOut {
  day: string; checked_at: string; status: 'ok' | 'discrepancies' | 'failed' | 'not_checked'
  chains: Record<string, { status?: string; compared?: number; discrepancies?: number; unknown?: number; error?: string | null }>
  discrepancies: { num_serie?: string; fecha_expedicion?: string }[]
  unknown: { nif?: string; num_serie?: string; fecha_expedicion?: string; aeat_estado?: string }[]
  emailed_at: string | null
}

export const verifactuApi = {
  settings: () => api.get<SettingsOut>('/verifactu/settings'),
  status: () => api.get<StatusOut>('/verifactu/status'),
  verify: () => api.get<VerifyOut>('/verifactu/chain/verify', { query: { archive: true } }),
  records: (status: RecordStatus | null, cursor?: string | null) =>
    api.get<Page<RecordOut>>('/verifactu/records', { query: { status, cursor, limit: 50 } }),
  discrepancies: (cursor?: string | null) => api.get<Page<RecordOut>>('/verifactu/reconciliation/records', { query: { cursor, limit: 50 } }),
  latestDay: async () => (await api.get<Page<ReconciliationDayOut>>('/verifactu/reconciliation/days', { query: { limit: 1 } })).items[0] ?? null,
}
