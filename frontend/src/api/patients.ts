import { api } from './http'
import type { Page } from './types'

export type AlertLevel = 'critical' | 'warning' | 'info'
export interface Alert { code: string; level: AlertLevel; message: string }
export interface NationalId { type: 'dni' | 'nie' | 'passport' | 'other'; number: string }
export interface Guardian { name: string; relationship: string; phone?: string | null; email?: string | null }
export interface Emergency { name: string; phone: string; relationship?: string | null }
/** The patient's insurer; null means a private patient. */
export interface Insurer { company: string; policy_number?: string | null; holder_name?: string | null }
export interface PatientAddress { line1: string; line2?: string | null; city: string; postal_code: string; province?: string | null; country?: string }
export interface PatientSummary {
  patient_id: string; full_name: string; first_name: string; last_name: string; second_last_name: string | null
  date_of_birth: string; age: number; phone: string | null; email: string | null; alerts: Alert[]; archived: boolean
}
export interface PatientOut extends PatientSummary {
  is_minor: boolean; gender: 'female' | 'male' | 'other' | 'unknown'; national_id: NationalId | null; profession: string | null
  address: PatientAddress | null; whatsapp: string | null; preferred_channel: 'phone' | 'email' | 'whatsapp' | 'sms' | null
  language: string; emergency_contact: Emergency | null; legal_guardian: Guardian | null; has_medical_history: boolean
  insurer?: Insurer | null
  archived_at: string | null; created_at: string; updated_at: string
  /** Blocked by a GDPR erasure request (ADR 1405). */
  blocked?: boolean; blocked_at?: string | null
}
export interface MedicalHistory {
  allergies: { substance: string; severity: 'mild' | 'moderate' | 'severe' | 'anaphylaxis'; reaction?: string | null }[]
  medications: { name: string; dose?: string | null; frequency?: string | null }[]
  systemic_diseases: { name: string; notes?: string | null }[]
  surgical_history: { procedure: string; year?: number | null; notes?: string | null }[]
  conditions: Record<string, boolean | number | string | null>
  notes: string | null
}
export interface MedicalOut { patient_id: string; history: MedicalHistory; alerts: Alert[]; updated_at: string | null; updated_by: string | null }

/** Which search parameter a free-text query means: a phone, an email, an id, or a name. */
export function searchParams(text: string): Record<string, string> {
  const q = text.trim()
  if (!q) return {}
  if (q.includes('@')) return { email: q }
  if (/^[XYZxyz]?\d{7,8}[A-Za-z]$/.test(q.replace(/[\s-]/g, ''))) return { national_id: q }
  if (/^\+?[\d\s()-]{6,}$/.test(q) && q.replace(/\D/g, '').length >= 6) return { phone: q }
  return { q }
}

export const patientsApi = {
  search: (text: string, cursor?: string | null, signal?: AbortSignal) =>
    api.get<Page<PatientSummary>>('/patients', { query: { ...searchParams(text), cursor, limit: 25 }, signal }),
  get: (id: string, signal?: AbortSignal) => api.get<PatientOut>(`/patients/${id}`, { signal }),
  create: (body: Record<string, unknown>) => api.post<PatientOut>('/patients', body),
  update: (id: string, body: Record<string, unknown>) => api.patch<PatientOut>(`/patients/${id}`, body),
  archive: (id: string) => api.post<PatientOut>(`/patients/${id}/archive`),
  unarchive: (id: string) => api.post<PatientOut>(`/patients/${id}/unarchive`),
  medical: (id: string) => api.get<MedicalOut>(`/patients/${id}/medical`),
  saveMedical: (id: string, h: MedicalHistory) => api.put<MedicalOut>(`/patients/${id}/medical`, h),
}
