import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import ImagesTab from './ImagesTab.vue'
import { isFdiTooth, parseTooth } from './teeth'
import { mountAt } from '@/test/setup'
import { useSession } from '@/stores/session'

afterEach(() => {
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
