import { api } from './http'
import type { Page } from './types'

export type Kind = 'photo' | 'xray' | 'dicom'
export interface Rendition { url: string; expires_at: string; content_type: string; width?: number | null; height?: number | null }
/** What the API tells of a DICOM's header (no PHI in listings). */
export interface DicomInfo {
  modality?: string | null; rows?: number | null; columns?: number | null; study_date?: string | null
  /** mm between pixel centres of the original, [rows, columns]; null when the file does not say. */
  pixel_spacing?: number[] | null
  /** PixelSpacing: in the patient; ImagerPixelSpacing: at the detector (magnified on panoramics). */
  pixel_spacing_source?: 'PixelSpacing' | 'ImagerPixelSpacing' | null
}
export interface ImageOut {
  image_id: string; patient_id: string; kind: Kind; status: 'pending' | 'processing' | 'ready' | 'failed' | 'expired'; reason: string | null
  /** The failure reason in Spanish, and its kind (empty, corrupt, too_large, ...). */
  reason_es?: string | null; reason_code?: string | null
  category: string | null; xray_type: string | null; teeth: number[]; acquired_at: string | null; filename: string
  width: number | null; height: number | null; urls: Record<string, Rendition>; created_at: string
  dicom?: DicomInfo | null; notes?: string | null
}
/** Why processing failed, in the app's language (the API sends English and Spanish). */
export function failureReason(img: Pick<ImageOut, 'reason' | 'reason_es'>, locale: string): string | undefined {
  return (locale.startsWith('es') ? img.reason_es ?? img.reason : img.reason) ?? undefined
}

/** What an edit may change; null clears a field. */
export interface ImageUpdate { category?: string | null; xray_type?: string | null; teeth?: number[] | null; acquired_at?: string | null }
export interface PairOut { pair_id: string; patient_id: string; title: string | null; before: ImageOut; after: ImageOut; created_at: string }
export interface UploadForm { url: string; fields: Record<string, string>; expires_in: number; max_bytes: number }
export const CATEGORIES = ['intraoral_frontal', 'intraoral_left', 'intraoral_right', 'intraoral_occlusal_upper', 'intraoral_occlusal_lower', 'extraoral_frontal', 'extraoral_smile', 'extraoral_profile_left', 'extraoral_profile_right', 'treatment_specific']
export const XRAY_TYPES = ['panoramic', 'periapical', 'bite-wing', 'cbct', 'cephalometric']

export function kindOf(file: File, wanted: 'photo' | 'xray'): Kind {
  if (/\.dcm$/i.test(file.name) || file.type === 'application/dicom') return 'dicom'
  return wanted
}

/** POST the file to S3 with the presigned form; reports progress 0..1. */
export function postToS3(form: UploadForm, file: File, onProgress: (p: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = new FormData()
    for (const [k, v] of Object.entries(form.fields)) fd.append(k, v)
    fd.append('file', file) // must be the last field
    const xhr = new XMLHttpRequest()
    xhr.open('POST', form.url)
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total)
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`S3 ${xhr.status}`)))
    xhr.onerror = () => reject(new Error('network'))
    xhr.send(fd)
  })
}

// Every read presigns its URLs afresh, and the browser caches by URL: a gallery opened again
// would download every thumbnail again. A rendition's bytes never change (the API serves them
// `immutable`), so the URL first seen for it is reused while it has a safe margin left; the
// browser then answers from its cache. Kept in memory only and forgotten at sign-out: a
// presigned URL is a bearer credential.
const URL_MARGIN_MS = 5 * 60_000
const seenUrls = new Map<string, Rendition>()

export function stableUrls(img: ImageOut, nowMs: number = Date.now()): ImageOut {
  const urls: Record<string, Rendition> = {}
  for (const [name, fresh] of Object.entries(img.urls ?? {})) {
    const key = `${img.image_id}/${name}/${fresh.content_type}`
    const seen = seenUrls.get(key)
    if (seen && Date.parse(seen.expires_at) - nowMs > URL_MARGIN_MS) urls[name] = seen
    else {
      seenUrls.set(key, fresh)
      urls[name] = fresh
    }
  }
  return { ...img, urls }
}

export function forgetImageUrls(): void {
  seenUrls.clear()
}

export const imagingApi = {
  list: async (pid: string, query: Record<string, string | undefined> = {}) => {
    const page = await api.get<Page<ImageOut>>(`/patients/${pid}/images`, { query: { limit: 100, ...query } })
    return { ...page, items: page.items.map((i) => stableUrls(i)) }
  },
  get: async (pid: string, id: string) => stableUrls(await api.get<ImageOut>(`/patients/${pid}/images/${id}`)),
  start: (pid: string, kind: Kind, file: File, extra: Record<string, unknown>) =>
    api.post<{ image: ImageOut; upload: UploadForm }>(`/patients/${pid}/${kind === 'photo' ? 'images' : 'xrays'}`, {
      kind, filename: file.name, content_type: file.type || (kind === 'dicom' ? 'application/dicom' : 'application/octet-stream'), size: file.size, ...extra,
    }),
  update: async (pid: string, id: string, body: ImageUpdate) => stableUrls(await api.patch<ImageOut>(`/patients/${pid}/images/${id}`, body)),
  remove: (pid: string, id: string) => api.del(`/patients/${pid}/images/${id}`),
  pairs: async (pid: string) =>
    (await api.get<PairOut[]>(`/patients/${pid}/images/pairs`)).map((p) => ({ ...p, before: stableUrls(p.before), after: stableUrls(p.after) })),
  createPair: async (pid: string, body: { before_id: string; after_id: string; title?: string | null }) => {
    const p = await api.post<PairOut>(`/patients/${pid}/images/pairs`, body)
    return { ...p, before: stableUrls(p.before), after: stableUrls(p.after) }
  },
  removePair: (pid: string, pairId: string) => api.del(`/patients/${pid}/images/pairs/${pairId}`),
  compare: async (pid: string, tooth: number) =>
    (await api.get<ImageOut[]>(`/patients/${pid}/xrays/compare`, { query: { tooth } })).map((i) => stableUrls(i)),
}
