import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import DocumentsTab from './DocumentsTab.vue'
import { mountAt } from '@/test/setup'
import { useSession } from '@/stores/session'
import { ApiError } from '@/api/http'
import { checkFile, declaredType, formatSize, titleFrom, uploadFailure, urlsFresh, type DocumentOut } from '@/api/documents'

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const MB = 1024 * 1024
const file = (name: string, type: string, size = 10) => {
  const f = new File([new Uint8Array(Math.min(size, 16))], name, { type })
  if (size > 16) Object.defineProperty(f, 'size', { value: size })
  return f
}

describe('a file is checked before anything is sent', () => {
  it('PDF, JPEG and PNG pass, by type or, when the browser gives none, by extension', () => {
    expect(checkFile(file('a.pdf', 'application/pdf'))).toBeNull()
    expect(checkFile(file('a.PNG', ''))).toBeNull()
    expect(declaredType(file('scan.jpeg', 'application/octet-stream'))).toBe('image/jpeg')
    expect(checkFile(file('a.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'))).toEqual({ code: 'type' })
    expect(checkFile(file('a.pdf', 'application/zip'))).toEqual({ code: 'type' })
    expect(checkFile(file('a.heic', ''))).toEqual({ code: 'type' })
  })

  it('an empty file and one over the limit are refused with the sizes', () => {
    expect(checkFile(file('a.pdf', 'application/pdf', 0))).toEqual({ code: 'empty' })
    expect(checkFile(file('a.pdf', 'application/pdf', 30 * MB))).toEqual({ code: 'size', mb: '30.0', max: 25 })
    expect(checkFile(file('a.pdf', 'application/pdf', 30 * MB), 40)).toBeNull()
  })

  it('sizes read in the interface language, and a title starts from the file name', () => {
    expect(formatSize(1_300_000, 'es')).toBe('1,2 MB')
    expect(formatSize(1_300_000, 'en')).toBe('1.2 MB')
    expect(formatSize(20_000, 'es')).toBe('20 KB')
    expect(formatSize(null, 'es')).toBe('')
    expect(titleFrom('consentimiento_implante.pdf')).toBe('consentimiento implante')
    expect(titleFrom('informe.v2.final.pdf')).toBe('informe.v2.final')
  })

  it("a failure says the API's words with their details, or which step failed", () => {
    const e = new ApiError(422, 'VALIDATION_FAILED', 'El archivo es demasiado grande.', [{ field: 'size', message: '30.0 MB supera el límite de 25 MB para documentos' }])
    expect(uploadFailure(e)).toEqual({ kind: 'api', message: 'El archivo es demasiado grande. 30.0 MB supera el límite de 25 MB para documentos' })
    expect(uploadFailure(new Error('network'))).toEqual({ kind: 'network' })
    expect(uploadFailure(new Error('S3 403'))).toEqual({ kind: 'storage' })
  })

  it('presigned URLs close to their expiry are not used', () => {
    const now = Date.parse('2026-12-03T10:00:00Z')
    const doc = (min: number) => ({ view: { url: 'u', expires_at: new Date(now + min * 60_000).toISOString() } }) as DocumentOut
    expect(urlsFresh(doc(30), now)).toBe(true)
    expect(urlsFresh(doc(1), now)).toBe(false)
    expect(urlsFresh({ view: null } as DocumentOut, now)).toBe(false)
  })
})

// ---- the tab, against a fake API and a fake storage ----

const doc = (id: string, over: Partial<DocumentOut> = {}): DocumentOut => ({
  document_id: id, patient_id: 'P1', type: 'consent', title: `Doc ${id}`, description: null, filename: `${id}.pdf`,
  content_type: 'application/pdf', size: 250_000, status: 'available',
  view: { url: `http://s3.test/${id}?inline`, expires_at: new Date(Date.now() + 3600_000).toISOString() },
  download: { url: `http://s3.test/${id}?attachment`, expires_at: new Date(Date.now() + 3600_000).toISOString() },
  created_at: '2026-11-20T10:00:00Z', created_by: 'U2', created_by_name: 'Rosa Recepción', updated_at: '2026-11-20T10:00:00Z', uploaded_at: '2026-11-20T10:00:05Z',
  ...over,
})
const json = (data: unknown, status = 200, extra: Record<string, unknown> = {}) =>
  new Response(JSON.stringify({ data, message: status < 400 ? null : 'El archivo es demasiado grande.', ...extra }), { status, headers: { 'Content-Type': 'application/json' } })

type Call = { method: string; path: string; body?: Record<string, unknown> }
type Handler = (c: Call) => Response | undefined

class FakeXhr {
  static status = 204
  static sent = 0
  upload: { onprogress?: (e: { lengthComputable: boolean; loaded: number; total: number }) => void } = {}
  status = 0
  onload?: () => void
  onerror?: () => void
  open() {}
  send() {
    FakeXhr.sent++
    setTimeout(() => {
      this.upload.onprogress?.({ lengthComputable: true, loaded: 5, total: 10 })
      this.status = FakeXhr.status
      if (FakeXhr.status === 0) this.onerror?.()
      else this.onload?.()
    })
  }
}

async function mountTab(opts: { items?: DocumentOut[]; permissions?: string[]; handle?: Handler } = {}) {
  const calls: Call[] = []
  FakeXhr.status = 204
  FakeXhr.sent = 0
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
  vi.stubGlobal('XMLHttpRequest', FakeXhr)
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const path = new URL(input, 'http://x').pathname.replace('/api/v1', '')
      const c: Call = { method: init?.method ?? 'GET', path, body: init?.body ? JSON.parse(String(init.body)) : undefined }
      calls.push(c)
      const custom = opts.handle?.(c)
      if (custom) return custom
      if (c.method === 'GET' && path === '/patients/P1/documents') return json({ items: opts.items ?? [], next_cursor: null })
      if (c.method === 'GET' && path === '/imaging/settings') return json({ max_document_mb: 25 })
      if (c.method === 'POST' && path === '/patients/P1/documents')
        return json({ document: doc('NEW', { status: 'pending', view: null, download: null, type: c.body!.type as never, title: String(c.body!.title) }), upload: { url: 'http://s3.test/', fields: { key: 'k' }, expires_in: 900, max_bytes: 10 } }, 201)
      if (c.method === 'POST' && path.endsWith('/complete')) return json(doc('NEW', { title: 'Informe radiológico', type: 'report', created_by: 'U1', created_by_name: 'Ana Admin' }))
      if (c.method === 'DELETE') return new Response(null, { status: 204 })
      return json(null)
    }),
  )
  const session = useSessionLater()
  const { wrapper } = await mountAt(DocumentsTab, '/patients/P1/documents', [], { patientId: 'P1' })
  session.set(opts.permissions ?? ['*'])
  await flushPromises()
  return { wrapper, calls }
}
// The session store exists once the test mount has made Pinia active.
function useSessionLater() {
  return { set: (permissions: string[]) => (useSession().me = { permissions, user: { user_id: 'U1' } } as never) }
}

async function choose(wrapper: Awaited<ReturnType<typeof mountTab>>['wrapper'], f: File) {
  const input = wrapper.get('[data-testid="doc-file-input"]')
  Object.defineProperty(input.element, 'files', { value: [f], configurable: true })
  await input.trigger('change')
}
// PrimeVue's Select, as a user's choice reaches the form (its overlay is not what is tested here).
async function pickType(wrapper: Awaited<ReturnType<typeof mountTab>>['wrapper'], value: string) {
  const select = wrapper.findAllComponents({ name: 'Select' }).find((s) => s.attributes('data-testid') === 'doc-type')!
  select.vm.$emit('update:modelValue', value)
  await flushPromises()
}

describe('the documents tab', () => {
  it('lists type, title, date, who and size, and offers view, download, edit and delete', async () => {
    const { wrapper } = await mountTab({ items: [doc('D1', { created_by: 'U1' }), doc('D2', { type: 'prescription', size: 1_300_000 })] })
    const rows = wrapper.findAll('[data-testid="doc-row"]')
    expect(rows).toHaveLength(2)
    expect(rows[0]!.text()).toContain('Doc D1')
    expect(rows[0]!.text()).toContain('Consentimiento informado')
    expect(rows[0]!.text()).toContain('Tú')
    expect(rows[1]!.text()).toContain('Receta')
    expect(rows[1]!.text()).toContain('Rosa Recepción')
    expect(rows[1]!.text()).toContain('1,2 MB')
    expect(rows[1]!.get('[data-testid="doc-download"]').attributes('href')).toBe('http://s3.test/D2?attachment')
    expect(rows[1]!.find('[data-testid="doc-edit"]').exists()).toBe(true)
  })

  it('without the write permission: no upload form, no edit, no delete', async () => {
    const { wrapper } = await mountTab({ items: [doc('D1')], permissions: ['imaging.documents.read'] })
    expect(wrapper.find('[data-testid="doc-upload"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="doc-edit"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="doc-delete"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="doc-download"]').exists()).toBe(true)
  })

  it('an empty record says so', async () => {
    const { wrapper } = await mountTab()
    expect(wrapper.text()).toContain('Aún no hay documentos')
  })

  it('a file of the wrong type or too large is refused in words, and nothing is sent', async () => {
    const { wrapper, calls } = await mountTab()
    await choose(wrapper, file('notas.docx', 'application/msword'))
    expect(wrapper.get('[data-testid="doc-file-error"]').text()).toContain('«notas.docx» no es un PDF, JPEG ni PNG')
    await choose(wrapper, file('escaner.pdf', 'application/pdf', 30 * MB))
    expect(wrapper.get('[data-testid="doc-file-error"]').text()).toContain('ocupa 30.0 MB y el límite para documentos es de 25 MB')
    await wrapper.get('[data-testid="doc-upload"]').trigger('submit')
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
  })

  it('the type is asked for; then the file goes to storage, is completed and joins the list', async () => {
    const { wrapper, calls } = await mountTab({ items: [doc('D1')] })
    await choose(wrapper, file('Informe_radiologico.pdf', 'application/pdf', 2000))
    expect(wrapper.get<HTMLInputElement>('[data-testid="doc-title"]').element.value).toBe('Informe radiologico')
    await wrapper.get('[data-testid="doc-upload"]').trigger('submit')
    expect(wrapper.text()).toContain('Elige el tipo de documento')
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    await pickType(wrapper, 'report')
    await wrapper.get('[data-testid="doc-title"]').setValue('Informe radiológico')
    await wrapper.get('[data-testid="doc-upload"]').trigger('submit')
    await vi.waitFor(() => expect(calls.some((c) => c.path.endsWith('/complete'))).toBe(true))
    await flushPromises()
    const start = calls.find((c) => c.method === 'POST' && c.path === '/patients/P1/documents')!
    expect(start.body).toMatchObject({ type: 'report', title: 'Informe radiológico', filename: 'Informe_radiologico.pdf', content_type: 'application/pdf', size: 2000 })
    expect(FakeXhr.sent).toBe(1)
    const rows = wrapper.findAll('[data-testid="doc-row"]')
    expect(rows.map((r) => r.attributes('data-id'))).toEqual(['NEW', 'D1'])
    expect(wrapper.find('[data-testid="doc-upload-row"]').exists()).toBe(false)
  })

  it("a refused upload shows the API's words; retry starts it again, remove deletes what it left", async () => {
    let refuse = true
    const { wrapper, calls } = await mountTab({
      handle: (c) =>
        c.method === 'POST' && c.path === '/patients/P1/documents' && refuse
          ? json(null, 422, { code: 'VALIDATION_FAILED', errors: [{ field: 'size', message: '30.0 MB supera el límite de 25 MB para documentos' }] })
          : undefined,
    })
    await choose(wrapper, file('consent.pdf', 'application/pdf', 2000))
    await pickType(wrapper, 'consent')
    await wrapper.get('[data-testid="doc-upload"]').trigger('submit')
    await flushPromises()
    const row = wrapper.get('[data-testid="doc-upload-row"]')
    expect(row.attributes('data-state')).toBe('failed')
    expect(row.text()).toContain('El archivo es demasiado grande. 30.0 MB supera el límite de 25 MB para documentos')
    refuse = false
    FakeXhr.status = 403 // now the storage refuses it
    await row.get('[data-testid="doc-upload-retry"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.get('[data-testid="doc-upload-row"]').attributes('data-state')).toBe('failed'))
    expect(wrapper.get('[data-testid="doc-upload-row"]').text()).toContain('El almacenamiento rechazó el archivo')
    await wrapper.get('[data-testid="doc-upload-remove"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="doc-upload-row"]').exists()).toBe(false)
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/patients/P1/documents/NEW'])
  })

  it('editing sends only what changed; deleting asks first', async () => {
    const { wrapper, calls } = await mountTab({
      items: [doc('D1')],
      handle: (c) => (c.method === 'PATCH' ? json(doc('D1', { title: String(c.body!.title) })) : undefined),
    })
    await wrapper.get('[data-testid="doc-edit"]').trigger('click')
    await flushPromises()
    const title = document.querySelector('[data-testid="doc-edit-title"]') as HTMLInputElement
    title.value = 'Consentimiento implante 36'
    title.dispatchEvent(new Event('input'))
    ;(document.querySelector('[data-testid="doc-edit-save"]') as HTMLElement).click()
    await flushPromises()
    expect(calls.find((c) => c.method === 'PATCH')).toEqual({ method: 'PATCH', path: '/patients/P1/documents/D1', body: { title: 'Consentimiento implante 36' } })
    expect(wrapper.get('[data-testid="doc-row"]').text()).toContain('Consentimiento implante 36')

    await wrapper.get('[data-testid="doc-delete"]').trigger('click')
    await flushPromises()
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false)
    expect(document.body.textContent).toContain('«Consentimiento implante 36» dejará de verse en la ficha')
    ;(document.querySelector('[data-testid="doc-delete-confirm"]') as HTMLElement).click()
    await flushPromises()
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/patients/P1/documents/D1'])
    expect(wrapper.findAll('[data-testid="doc-row"]')).toHaveLength(0)
  })

  it('a PDF opens in a frame and an image as an image, inside the record', async () => {
    const { wrapper } = await mountTab({ items: [doc('D1'), doc('D2', { content_type: 'image/png', title: 'DNI' })] })
    await wrapper.findAll('[data-testid="doc-view"]')[0]!.trigger('click')
    await flushPromises()
    expect((document.querySelector('[data-testid="doc-pdf"]') as HTMLIFrameElement).getAttribute('src')).toBe('http://s3.test/D1?inline')
    expect(document.querySelector('[data-testid="doc-pdf"]')!.getAttribute('title')).toBe('PDF: Doc D1')
    ;(document.querySelector('.doc-viewer .p-dialog-close-button, .doc-viewer [data-pc-section="pcclosebutton"]') as HTMLElement).click()
    await flushPromises()
    await wrapper.findAll('[data-testid="doc-view"]')[1]!.trigger('click')
    await flushPromises()
    const img = document.querySelector('[data-testid="doc-image"]') as HTMLImageElement
    expect(img.getAttribute('src')).toBe('http://s3.test/D2?inline')
    expect(img.alt).toBe('DNI')
  })
})
