import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import NotesTab from './NotesTab.vue'
import { mountAt } from '@/test/setup'
import { useSession } from '@/stores/session'
import type { Note } from '@/api/notes'

vi.mock('primevue/useconfirm', () => ({ useConfirm: () => ({ require: vi.fn() }) }))

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const note = (id: string, over: Partial<Note> = {}): Note => ({
  note_id: id, patient_id: 'P1', appointment_id: null, template_id: null, kind: 'soap', title: `Nota ${id}`,
  subjective: 'Dolor en 36', objective: '', assessment: 'Pulpitis', plan: '', text: null, attachments: [],
  status: 'draft', author_id: 'U1', author_name: 'Diana', created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:00:00Z',
  signed_at: null, signed_by: null, signed_by_name: null, content_hash: null, amendments: [], ...over,
})
const json = (data: unknown) => new Response(JSON.stringify({ data, message: null }), { status: 200, headers: { 'Content-Type': 'application/json' } })

async function mountTab(items: Note[], permissions: string[]) {
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string) => {
      const path = new URL(input, 'http://x').pathname.replace('/api/v1', '')
      if (path === '/patients/P1/notes') return json({ items, next_cursor: null })
      return json({ items: [], next_cursor: null })
    }),
  )
  const { wrapper } = await mountAt(NotesTab, '/patients/P1/notes', [{ path: '/patients/:id/:tab?', name: 'patient', component: { template: '<div />' } }, { path: '/notes/search', name: 'notes-search', component: { template: '<div />' } }], { patientId: 'P1' })
  useSession().me = { permissions, user: { user_id: 'U1' } } as never
  await flushPromises()
  return wrapper
}

const signed = note('S', {
  status: 'signed', signed_at: '2026-12-01T11:00:00Z', signed_by: 'U1', signed_by_name: 'Diana', content_hash: 'a'.repeat(64),
  amendments: [{ amendment_id: 'A1', note_id: 'S', reason: 'Dato omitido', text: 'Clorhexidina', author_id: 'U2', author_name: 'Hugo', signed_at: '2026-12-02T09:00:00Z', content_hash: 'b'.repeat(64) }],
})

describe('the notes tab', () => {
  it("shows each note's state, its amendments under it, and what its author may do", async () => {
    const w = await mountTab([note('D'), signed, note('O', { author_id: 'U9', author_name: 'Otra' })], ['clinical.notes.read', 'clinical.notes.write'])
    const d = w.get('[data-testid="note-D"]')
    expect(d.find('[data-testid="note-state-draft"]').exists()).toBe(true)
    expect(d.find('[data-testid="note-sign"]').exists()).toBe(true)
    const s = w.get('[data-testid="note-S"]')
    expect(s.find('[data-testid="note-state-amended"]').exists()).toBe(true)
    expect(s.find('[data-testid="note-sign"]').exists()).toBe(false)
    expect(s.find('[data-testid="note-amend"]').exists()).toBe(true)
    expect(s.get('[data-testid="amendment"]').text()).toContain('Dato omitido')
    expect(s.text()).toContain('Huella SHA-256')
    const o = w.get('[data-testid="note-O"]')
    expect(o.find('[data-testid="note-sign"]').exists()).toBe(false)
    expect(o.text()).toContain('Solo quien escribió el borrador')
  })

  it('a reader sees the notes without any action', async () => {
    const w = await mountTab([note('D'), signed], ['clinical.notes.read'])
    expect(w.find('[data-testid="note-new"]').exists()).toBe(false)
    expect(w.find('[data-testid="note-sign"]').exists()).toBe(false)
    expect(w.find('[data-testid="note-amend"]').exists()).toBe(false)
    expect(w.get('[data-testid="note-S"]').text()).toContain('Clorhexidina')
  })
})
