// Clinical notes (chalicelib/notes): a patient's notes (draft → signed → amended), the
// clinic-wide search over them, and the clinic's note templates. Permissions
// `clinical.notes.read` / `.write`, `clinical.templates.write`.
import { api } from './http'
import type { Page } from './types'

export type NoteKind = 'soap' | 'free'
export const SOAP_FIELDS = ['subjective', 'objective', 'assessment', 'plan'] as const
export type SoapField = (typeof SOAP_FIELDS)[number]

export interface Attachment { kind: 'image' | 'document'; id: string }
export interface NoteBody {
  kind: NoteKind; title?: string | null
  subjective?: string | null; objective?: string | null; assessment?: string | null; plan?: string | null; text?: string | null
}
export interface NoteIn extends NoteBody { appointment_id?: string | null; template_id?: string | null; attachments: Attachment[] }
export interface Amendment {
  amendment_id: string; note_id: string; reason: string; text: string
  author_id: string; author_name: string | null; signed_at: string; content_hash: string
}
export interface Note extends NoteBody {
  note_id: string; patient_id: string; appointment_id: string | null; template_id: string | null; title: string | null
  attachments: Attachment[]; status: 'draft' | 'signed'; author_id: string; author_name: string | null
  created_at: string; updated_at: string; signed_at: string | null; signed_by: string | null; signed_by_name: string | null
  content_hash: string | null; amendments: Amendment[]
}
export interface SearchHit {
  note_id: string; patient_id: string; patient_name: string; status: 'draft' | 'signed'; kind: NoteKind; title: string | null
  created_at: string; signed_at: string | null; author_name: string | null; snippet: string; in_amendment: boolean
}
export interface TemplateIn extends NoteBody { name: string; treatment_type: string; active: boolean }
export interface Template extends TemplateIn { template_id: string; title: string | null; updated_at: string }

const base = (pid: string) => `/patients/${pid}/notes`

export const notesApi = {
  list: (pid: string, cursor?: string | null) => api.get<Page<Note>>(base(pid), { query: { limit: 20, cursor } }),
  get: (pid: string, id: string) => api.get<Note>(`${base(pid)}/${id}`),
  create: (pid: string, body: NoteIn) => api.post<Note>(base(pid), body),
  update: (pid: string, id: string, body: NoteIn) => api.put<Note>(`${base(pid)}/${id}`, body),
  remove: (pid: string, id: string) => api.del(`${base(pid)}/${id}`),
  sign: (pid: string, id: string) => api.post<Note>(`${base(pid)}/${id}/sign`, {}),
  amend: (pid: string, id: string, body: { reason: string; text: string }) => api.post<Note>(`${base(pid)}/${id}/amendments`, body),
  search: (q: string, cursor?: string | null) => api.get<Page<SearchHit>>('/notes/search', { query: { q, limit: 20, cursor } }),
  templates: async (active?: boolean): Promise<Template[]> => {
    const out: Template[] = []
    let cursor: string | null = null
    for (let i = 0; i < 10; i++) {
      const page: Page<Template> = await api.get<Page<Template>>('/notes/templates', { query: { limit: 200, cursor, active } })
      out.push(...page.items)
      cursor = page.next_cursor
      if (!cursor) break
    }
    return out.sort((a, b) => a.treatment_type.localeCompare(b.treatment_type) || a.name.localeCompare(b.name))
  },
  createTemplate: (body: TemplateIn) => api.post<Template>('/notes/templates', body),
  updateTemplate: (id: string, body: TemplateIn) => api.put<Template>(`/notes/templates/${id}`, body),
  removeTemplate: (id: string) => api.del(`/notes/templates/${id}`),
}

/** The editable form of a note (or template): every field a string. */
export interface NoteDraft { kind: NoteKind; title: string; subjective: string; objective: string; assessment: string; plan: string; text: string }
export const emptyDraft = (kind: NoteKind = 'soap'): NoteDraft => ({ kind, title: '', subjective: '', objective: '', assessment: '', plan: '', text: '' })

/** A template (or a note) as a draft to start from. */
export function draftFrom(x: NoteBody & { title?: string | null }): NoteDraft {
  return {
    kind: x.kind, title: x.title ?? '', subjective: x.subjective ?? '', objective: x.objective ?? '',
    assessment: x.assessment ?? '', plan: x.plan ?? '', text: x.text ?? '',
  }
}

/** The body the API takes for a draft: only the fields of its kind, trimmed. */
export function bodyOf(d: NoteDraft): NoteBody {
  const title = d.title.trim() || null
  if (d.kind === 'free') return { kind: 'free', title, text: d.text.trim() }
  return { kind: 'soap', title, subjective: d.subjective.trim(), objective: d.objective.trim(), assessment: d.assessment.trim(), plan: d.plan.trim() }
}

/** Whether the draft says anything (the API refuses an empty note). */
export function isEmpty(d: NoteDraft): boolean {
  return d.kind === 'free' ? !d.text.trim() : !SOAP_FIELDS.some((f) => d[f].trim())
}

/** A note's state for its badge: draft, signed, or signed and amended. */
export function stateOf(n: Pick<Note, 'status' | 'amendments'>): 'draft' | 'signed' | 'amended' {
  if (n.status === 'draft') return 'draft'
  return n.amendments.length ? 'amended' : 'signed'
}
