// The Bridge (devices beside the X-ray sensors) and the inbox of unassigned captures
// (chalicelib/bridge; the contract is /work/bridge-contract.md, summarised in docs/api.md).
import { api } from './http'
import { stableUrls, type ImageOut, type Kind } from './imaging'
import type { Page } from './types'

export interface DeviceDefaults { kind: Kind; xray_type?: string | null; category?: string | null }
export interface DeviceOut {
  device_id: string; name: string; cabinet_id: string | null; defaults: DeviceDefaults; folders: string[]; patterns: string[]
  status: 'active' | 'revoked'; key_prefix: string; previous_key_prefix: string | null; previous_key_expires_at: string | null
  created_at: string; created_by: string | null; revoked_at: string | null; last_seen_at: string | null; last_ip: string | null
  client_version: string | null; last_upload_at: string | null
}
export interface CaptureMatch { by: 'explicit' | 'appointment' | 'dicom' | 'filename' | null; reason: 'no_match' | 'ambiguous' | null; candidates: string[] }
export interface CaptureHints { filename?: string | null; dicom_patient_name?: string | null; dicom_patient_id?: string | null; dicom_birth_date?: string | null }
export interface CaptureOut extends Omit<ImageOut, 'patient_id'> {
  patient_id: string | null; device_id: string | null; device_name: string | null
  match: CaptureMatch | null; hints: CaptureHints | null; study_uid: string | null; series_uid: string | null
}
export interface DeviceDetail extends DeviceOut { recent_uploads: CaptureOut[] }
export interface DeviceIn {
  name: string; cabinet_id?: string | null; defaults: DeviceDefaults; folders?: string[]; patterns?: string[]
}
export interface KeyOut { device: DeviceOut; api_key: string }

/** The grace periods offered when rotating a key, in hours (the API accepts 0–168). */
export const GRACE_HOURS = [0, 1, 24, 72, 168]
export const DEFAULT_GRACE = 24

/** A list answer, whether the API pages it ({items, next_cursor}) or not (a bare list). */
export function pageOf<T>(x: Page<T> | T[] | null | undefined): Page<T> {
  if (!x) return { items: [], next_cursor: null }
  return Array.isArray(x) ? { items: x, next_cursor: null } : { items: x.items ?? [], next_cursor: x.next_cursor ?? null }
}

const withUrls = <T extends { image_id: string; urls: ImageOut['urls'] }>(c: T): T => stableUrls(c as unknown as ImageOut) as unknown as T

export const bridgeApi = {
  devices: async () => pageOf(await api.get<Page<DeviceOut> | DeviceOut[]>('/bridge/devices')).items,
  device: async (id: string) => {
    const d = await api.get<DeviceDetail>(`/bridge/devices/${id}`)
    return { ...d, recent_uploads: (d.recent_uploads ?? []).map(withUrls) }
  },
  register: (body: DeviceIn) => api.post<KeyOut>('/bridge/devices', body),
  update: (id: string, body: Partial<DeviceIn>) => api.patch<DeviceOut>(`/bridge/devices/${id}`, body),
  rotate: (id: string, graceHours: number) => api.post<KeyOut>(`/bridge/devices/${id}/rotate`, { grace_hours: graceHours }),
  revoke: (id: string) => api.post<DeviceOut>(`/bridge/devices/${id}/revoke`),
  inbox: async (cursor?: string | null, limit = 50) => {
    const page = pageOf(await api.get<Page<CaptureOut> | CaptureOut[]>('/bridge/inbox', { query: { cursor, limit } }))
    return { ...page, items: page.items.map(withUrls) }
  },
  assign: (imageId: string, patientId: string) => api.post<ImageOut>(`/bridge/inbox/${imageId}/assign`, { patient_id: patientId }),
  discard: (imageId: string) => api.del<null>(`/bridge/inbox/${imageId}`),
}

/** The two commands that set the reference client up on the PC beside the sensor. */
export function clientCommands(origin: string, key: string): string[] {
  return [`cuspide-bridge configure --api-url ${origin.replace(/\/$/, '')}/api/v1 --key ${key}`, 'cuspide-bridge run']
}

/** Folders or patterns typed one per line (a folder may contain a comma): trimmed, no blanks, no repeats. */
export function lines(text: string): string[] {
  return [...new Set(text.split(/\r?\n/).map((s) => s.trim()).filter(Boolean))]
}
