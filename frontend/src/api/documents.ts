// A patient's documents (consents, reports, referrals, prescriptions, ID and insurance cards):
// the same presigned upload as images (postToS3 from ./imaging), then a `complete` call that
// checks the stored bytes and makes the document available.
import { api, ApiError } from './http'
import { postToS3, type UploadForm } from './imaging'
import type { Page } from './types'

/** The API's document types (chalicelib/imaging/schemas.py DocumentType), in menu order. */
export const DOC_TYPES = ['consent', 'report', 'referral', 'prescription', 'id_scan', 'insurance', 'other'] as const
export type DocType = (typeof DOC_TYPES)[number]

export interface DownloadUrl { url: string; expires_at: string }
export interface DocumentOut {
  document_id: string; patient_id: string; type: DocType; title: string; description: string | null
  filename: string; content_type: string | null; size: number | null; status: 'pending' | 'available' | 'expired'
  view: DownloadUrl | null; download: DownloadUrl | null
  created_at: string; created_by: string; created_by_name?: string | null; updated_at: string; uploaded_at: string | null
}
export interface DocumentPatch { type?: DocType; title?: string }

/** What the API accepts (the bytes decide in the end: `complete` sniffs them). */
export const ACCEPTED_TYPES = ['application/pdf', 'image/jpeg', 'image/png'] as const
export const ACCEPT_ATTR = 'application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png'
/** The API's default limit (IMAGING_MAX_DOCUMENT_MB); the clinic's own comes from /imaging/settings when readable. */
export const DEFAULT_MAX_MB = 25

const BY_EXT: Record<string, string> = { pdf: 'application/pdf', jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png' }

/** The content type to declare: the browser's, or the extension's when the browser gave none (some send '' for PDFs). */
export function declaredType(file: File): string | null {
  const t = (file.type || '').toLowerCase()
  if ((ACCEPTED_TYPES as readonly string[]).includes(t)) return t
  if (t && t !== 'application/octet-stream') return null
  return BY_EXT[file.name.split('.').pop()?.toLowerCase() ?? ''] ?? null
}

export type FileProblem = { code: 'type' } | { code: 'empty' } | { code: 'size'; mb: string; max: number }

/** Refused before anything is sent: a type the API would not take, an empty file, one over the limit. */
export function checkFile(file: File, maxMb: number = DEFAULT_MAX_MB): FileProblem | null {
  if (!declaredType(file)) return { code: 'type' }
  if (file.size <= 0) return { code: 'empty' }
  if (file.size > maxMb * 1024 * 1024) return { code: 'size', mb: (file.size / 1024 / 1024).toFixed(1), max: maxMb }
  return null
}

export const isPdf = (d: Pick<DocumentOut, 'content_type'>) => d.content_type === 'application/pdf'
export const isImage = (d: Pick<DocumentOut, 'content_type'>) => !!d.content_type?.startsWith('image/')

/** "340 KB", "1,2 MB" in the interface's language. */
export function formatSize(bytes: number | null | undefined, locale: string): string {
  if (bytes == null) return ''
  const nf = (max: number) => new Intl.NumberFormat(locale, { maximumFractionDigits: max })
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${nf(0).format(Math.max(1, Math.round(bytes / 1024)))} KB`
  return `${nf(1).format(bytes / 1024 / 1024)} MB`
}

/** A file name without its extension, as a title to start from. */
export function titleFrom(name: string): string {
  return name.replace(/\.[^./\\]{1,5}$/, '').replace(/[_]+/g, ' ').trim().slice(0, 200) || name.slice(0, 200)
}

/**
 * An upload's failure in words: the API's own message with its field details (the size over
 * the limit, the accepted types), or, for the storage step, what happened.
 */
export function uploadFailure(e: unknown): { kind: 'api'; message: string } | { kind: 'storage' | 'network' } {
  if (e instanceof ApiError) {
    const details = e.errors.map((x) => x.message).filter((m) => m && !e.message.includes(m))
    return { kind: 'api', message: [e.message, ...details].join(' ') }
  }
  return (e as Error)?.message === 'network' ? { kind: 'network' } : { kind: 'storage' }
}

// A presigned URL is valid for a while: a document opened long after the list was read is
// fetched again for fresh URLs.
const FRESH_MS = 2 * 60_000
export function urlsFresh(d: DocumentOut, nowMs: number = Date.now()): boolean {
  return !!d.view && Date.parse(d.view.expires_at) - nowMs > FRESH_MS
}

const base = (pid: string) => `/patients/${pid}/documents`

export const documentsApi = {
  list: (pid: string, cursor?: string | null) =>
    api.get<Page<DocumentOut>>(base(pid), { query: { status: 'available', limit: 50, cursor } }),
  get: (pid: string, id: string) => api.get<DocumentOut>(`${base(pid)}/${id}`),
  update: (pid: string, id: string, patch: DocumentPatch) => api.patch<DocumentOut>(`${base(pid)}/${id}`, patch),
  remove: (pid: string, id: string) => api.del(`${base(pid)}/${id}`),
  /** The clinic's limit in MB, when this user may read the imaging settings (null otherwise). */
  maxMb: async (): Promise<number | null> => {
    try {
      return (await api.get<{ max_document_mb: number }>('/imaging/settings')).max_document_mb
    } catch {
      return null
    }
  },
  start: (pid: string, file: File, meta: { type: DocType; title: string }) =>
    api.post<{ document: DocumentOut; upload: UploadForm }>(base(pid), {
      ...meta, filename: file.name, content_type: declaredType(file) ?? file.type, size: file.size,
    }),
  complete: (pid: string, id: string) => api.post<DocumentOut>(`${base(pid)}/${id}/complete`),
  /** Straight to storage with the presigned form (shared with images), reporting 0..1. */
  send: (form: UploadForm, file: File, onProgress: (p: number) => void) => postToS3(form, file, onProgress),
}
