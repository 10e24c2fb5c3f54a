import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import ImagesTab from './ImagesTab.vue'
import { isFdiTooth, parseTeeth, parseTooth } from './teeth'
import { mountAt } from '@/test/setup'
import { useSession } from '@/stores/session'

// The app's ConfirmDialog lives in App.vue: here every confirmation is accepted at once, and
// what it asked is kept for the assertions.
const confirmed: { header?: string; message?: string }[] = []
vi.mock('primevue/useconfirm', () => ({
  useConfirm: () => ({ require: (o: { header?: string; message?: string; accept?: () => unknown }) => (confirmed.push(o), o.accept?.()) }),
}))

afterEach(() => {
  confirmed.length = 0
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const json = (data: unknown, status = 200) => new Response(JSON.stringify({ data, message: status < 400 ? null : 'El archivo es demasiado grande (máximo 40 MB)', code: status < 400 ? undefined : 'VALIDATION_FAILED' }), { status, headers: { 'Content-Type': 'application/json' } })

async function mountTab(start: (body: Record<string, unknown>) => Response) {
  const calls: { method: string; path: string; body?: Record<string, unknown> }[] = []
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const path = new URL(input, 'http://x').pathname.replace('/api/v1', '')
      const body = init?.body ? JSON.parse(String(init.body)) : undefined
      const method = init?.method ?? 'GET'
      calls.push({ method, path, body })
      if (method === 'GET' && path === '/patients/P1/images') return json({ items: [], next_cursor: null })
      if (method === 'GET' && path === '/patients/P1/images/pairs') return json([])
      if (method === 'POST') return start(body)
      if (method === 'DELETE') return new Response(null, { status: 204 })
      return json(null)
    }),
  )
  const { wrapper } = await mountAt(ImagesTab, '/patients/P1', [], { patientId: 'P1' })
  useSession().me = { permissions: ['*'] } as never
  await flushPromises()
  return { wrapper, calls }
}

function dropFile(wrapper: Awaited<ReturnType<typeof mountTab>>['wrapper'], name = 'rx.jpg') {
  const file = new File([new Uint8Array([0xff, 0xd8, 0xff])], name, { type: 'image/jpeg' })
  return wrapper.get('[data-testid="dropzone"]').trigger('drop', { dataTransfer: { files: [file] } })
}

describe('uploading from the images tab', () => {
  it('a tooth typed just before dropping a file goes with it (no blur needed)', async () => {
    const { wrapper, calls } = await mountTab(() => json(null, 422))
    await wrapper.get('[data-testid="upload-tooth"]').setValue('36')
    await dropFile(wrapper)
    await flushPromises()
    const start = calls.find((c) => c.method === 'POST')
    expect(start?.body?.teeth).toEqual([36])
  })

  it('a number that is not an FDI tooth is said at once, and nothing is uploaded', async () => {
    const { wrapper, calls } = await mountTab(() => json(null, 422))
    await wrapper.get('[data-testid="upload-tooth"]').setValue('19')
    expect(wrapper.get('#upload-tooth-err').text()).toContain('FDI')
    await dropFile(wrapper)
    await flushPromises()
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
  })

  it("a refused upload shows the API's own words and can be removed", async () => {
    const { wrapper } = await mountTab(() => json(null, 422))
    await dropFile(wrapper, 'enorme.jpg')
    await flushPromises()
    const row = wrapper.get('[data-testid="upload-row"]')
    expect(row.attributes('data-state')).toBe('failed')
    expect(row.text()).toContain('El archivo es demasiado grande (máximo 40 MB)')
    await wrapper.get('[data-testid="upload-dismiss"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="upload-row"]').exists()).toBe(false)
  })
})

describe('FDI tooth numbers', () => {
  it('permanent 11–48 and deciduous 51–85, nothing else', () => {
    expect([11, 18, 28, 38, 48, 51, 55, 65, 75, 85].every(isFdiTooth)).toBe(true)
    expect([10, 19, 29, 49, 50, 56, 86, 90, 9, 100].some(isFdiTooth)).toBe(false)
    expect(parseTooth('')).toBeNull()
    expect(parseTooth(' 36 ')).toBe(36)
    expect(parseTooth('3')).toBeNaN()
    expect(parseTooth('x6')).toBeNaN()
  })
})

// ---- edit, delete, pairs and the viewer, against a small gallery ----
const url = (n: string) => ({ url: `data:image/gif;base64,R0lGODlhAQABAAAAACw=#${n}`, expires_at: '2999-01-01T00:00:00Z', content_type: 'image/gif' })
function img(id: string, over: Record<string, unknown> = {}) {
  return {
    image_id: id, patient_id: 'P1', kind: 'photo', status: 'ready', reason: null, category: 'intraoral_frontal', xray_type: null, teeth: [],
    acquired_at: '2025-01-10', filename: `${id}.jpg`, width: 400, height: 300, urls: { thumb: url(`${id}t`), preview: url(`${id}p`) }, created_at: '2025-01-10T10:00:00Z', ...over,
  }
}
const GALLERY = [
  img('A', { acquired_at: '2025-06-01' }),
  img('B', { acquired_at: '2025-01-10', category: 'extraoral_smile' }),
  img('X', { kind: 'dicom', category: null, xray_type: 'periapical', teeth: [11], acquired_at: '2024-05-02', filename: 'periapical-11.dcm', dicom: { rows: 1000, columns: 760, pixel_spacing: [0.035, 0.035], pixel_spacing_source: 'ImagerPixelSpacing' } }),
]

async function mountGallery(pairs: unknown[] = []) {
  const calls: { method: string; path: string; body?: Record<string, unknown> }[] = []
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const path = new URL(input, 'http://x').pathname.replace('/api/v1', '')
      const body = init?.body ? JSON.parse(String(init.body)) : undefined
      const method = init?.method ?? 'GET'
      calls.push({ method, path, body })
      if (method === 'GET' && path === '/patients/P1/images') return json({ items: GALLERY, next_cursor: null })
      if (method === 'GET' && path === '/patients/P1/images/pairs') return json(pairs)
      if (method === 'PATCH') return json({ ...GALLERY.find((i) => path.endsWith(i.image_id)), ...body })
      if (method === 'POST' && path === '/patients/P1/images/pairs') {
        const by = (id: string) => GALLERY.find((i) => i.image_id === id)
        return json({ pair_id: 'PR1', patient_id: 'P1', title: body?.title ?? null, before: by(String(body?.before_id)), after: by(String(body?.after_id)), created_at: '2025-07-01T00:00:00Z' }, 201)
      }
      if (method === 'DELETE') return new Response(null, { status: 204 })
      return json(null)
    }),
  )
  const { wrapper } = await mountAt(ImagesTab, '/patients/P1', [], { patientId: 'P1' })
  useSession().me = { permissions: ['*'] } as never
  await flushPromises()
  return { wrapper, calls }
}
const body = () => document.body
const tile = (w: Awaited<ReturnType<typeof mountGallery>>['wrapper'], i: number) => w.findAll('[data-testid="gallery"] figure')[i]!

describe('editing and deleting images', () => {
  it('edits the teeth and the date, sending only what changed', async () => {
    const { wrapper, calls } = await mountGallery()
    await tile(wrapper, 0).get('[data-testid="tile-edit"]').trigger('click')
    await flushPromises()
    const teeth = body().querySelector<HTMLInputElement>('[data-testid="image-edit-teeth"]')!
    const date = body().querySelector<HTMLInputElement>('[data-testid="image-edit-date"]')!
    teeth.value = '21, 11 11'
    teeth.dispatchEvent(new Event('input'))
    date.value = '2025-05-30'
    date.dispatchEvent(new Event('input'))
    body().querySelector<HTMLFormElement>('[data-testid="image-edit-form"]')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    const patch = calls.find((c) => c.method === 'PATCH')
    expect(patch?.path).toBe('/patients/P1/images/A')
    expect(patch?.body).toEqual({ teeth: [11, 21], acquired_at: '2025-05-30' })
    expect(tile(wrapper, 0).get('[data-testid="tile-what"]').text()).toContain('11, 21')
  })

  it('names a tooth that is not FDI and sends nothing', async () => {
    const { wrapper, calls } = await mountGallery()
    await tile(wrapper, 0).get('[data-testid="tile-edit"]').trigger('click')
    await flushPromises()
    const teeth = body().querySelector<HTMLInputElement>('[data-testid="image-edit-teeth"]')!
    teeth.value = '11, 19'
    teeth.dispatchEvent(new Event('input'))
    body().querySelector<HTMLFormElement>('[data-testid="image-edit-form"]')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(body().querySelector('#img-teeth-err')?.textContent).toContain('19')
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false)
  })

  it('deletes after asking, and the tile goes', async () => {
    const { wrapper, calls } = await mountGallery()
    await tile(wrapper, 1).get('[data-testid="tile-delete"]').trigger('click')
    await flushPromises()
    expect(confirmed[0]?.message).toContain('Sonrisa')
    expect(calls.find((c) => c.method === 'DELETE')?.path).toBe('/patients/P1/images/B')
    expect(wrapper.findAll('[data-testid="gallery"] figure')).toHaveLength(2)
  })
})

describe('before / after pairs', () => {
  it('lists the saved pairs and unpairs one after asking', async () => {
    const { wrapper, calls } = await mountGallery([{ pair_id: 'PR0', patient_id: 'P1', title: 'Blanqueamiento', before: GALLERY[1], after: GALLERY[0], created_at: '2025-07-01T00:00:00Z' }])
    expect(wrapper.get('[data-testid="pairs"]').text()).toContain('Blanqueamiento')
    await wrapper.get('[data-testid="pair-remove"]').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.method === 'DELETE')?.path).toBe('/patients/P1/images/pairs/PR0')
    expect(wrapper.find('[data-testid="pair"]').exists()).toBe(false)
  })

  it('saves two ticked photos as a pair, the older one as before', async () => {
    const { wrapper, calls } = await mountGallery()
    await tile(wrapper, 0).get('input.pick').trigger('change')
    await tile(wrapper, 1).get('input.pick').trigger('change')
    await wrapper.get('[data-testid="compare-open"]').trigger('click')
    await flushPromises()
    const title = body().querySelector<HTMLInputElement>('[data-testid="pair-title"]')!
    title.value = 'Ortodoncia'
    title.dispatchEvent(new Event('input'))
    body().querySelector<HTMLFormElement>('[data-testid="pair-save-form"]')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ before_id: 'B', after_id: 'A', title: 'Ortodoncia' })
    expect(wrapper.get('[data-testid="pairs"]').text()).toContain('Ortodoncia')
  })
})

describe('the viewer', () => {
  it('titles the image by date and type, and goes to the next one with →', async () => {
    const { wrapper } = await mountGallery()
    await tile(wrapper, 1).get('button.thumb').trigger('click')
    await flushPromises()
    const title = () => body().querySelector('[data-testid="viewer-title"]')!.textContent!
    expect(title()).toContain('Sonrisa')
    expect(title()).toContain('2025')
    expect(title()).not.toContain('B.jpg')
    expect(body().querySelector('[data-testid="viewer-position"]')!.textContent).toContain('2 de 3')
    body().querySelector('[data-testid="viewer-stage"]')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }))
    await flushPromises()
    expect(title()).toContain('Periapical')
    expect(title()).toContain('11')
    // The last one: → goes nowhere, and the ruler is offered (the DICOM gave its pixel spacing).
    expect(body().querySelector('[data-testid="viewer-next"]')!.hasAttribute('disabled')).toBe(true)
    expect(body().querySelector('[data-testid="viewer-tool"]')!.textContent).toContain('Medir')
    body().querySelector('[data-testid="viewer-stage"]')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'i', bubbles: true }))
    await flushPromises()
    expect(body().querySelector('[data-testid="viewer-image"]')!.getAttribute('data-invert')).toBe('true')
  })
})

describe('a list of teeth', () => {
  it('is sorted and distinct, or names the entry that is not a tooth', () => {
    expect(parseTeeth('21, 11;11 36')).toEqual({ teeth: [11, 21, 36] })
    expect(parseTeeth('  ')).toEqual({ teeth: [] })
    expect(parseTeeth('11, 19')).toEqual({ invalid: '19' })
  })
})
