import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import PatientExportDialog from './PatientExportDialog.vue'
import { mountAt } from '@/test/setup'
import type { ExportOut } from '@/api/gdpr'

afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
  document.body.innerHTML = ''
})

const exp = (id: string, over: Partial<ExportOut> = {}): ExportOut => ({
  export_id: id, patient_id: 'P1', status: 'pending', reason: null, reason_es: null, reason_code: null,
  requested_by_name: 'Ana Admin', created_at: '2026-12-03T10:00:00Z', finished_at: null, valid_until: '2026-12-10T10:00:00Z',
  size: null, files: null, sections: null, download_url: null, download_expires_at: null, ...over,
})
const json = (data: unknown, status = 200, message: string | null = null) =>
  new Response(JSON.stringify({ data, message }), { status, headers: { 'Content-Type': 'application/json' } })

type Call = { method: string; path: string }

async function mountDialog(list: () => ExportOut[], handle?: (c: Call) => Response | undefined) {
  const calls: Call[] = []
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const path = new URL(input, 'http://x').pathname.replace('/api/v1', '')
      const c = { method: init?.method ?? 'GET', path }
      calls.push(c)
      const custom = handle?.(c)
      if (custom) return custom
      if (c.method === 'GET' && path === '/patients/P1/exports') return json({ items: list(), next_cursor: null })
      return json(null)
    }),
  )
  const { wrapper } = await mountAt(PatientExportDialog, '/patients/P1', [], { patientId: 'P1', patientName: 'Lucía Pérez', visible: true, pollMs: 20 })
  await flushPromises()
  return { wrapper, calls }
}
const body = () => document.body
const q = (id: string) => body().querySelector(`[data-testid="${id}"]`) as HTMLElement | null

describe('the GDPR export dialog', () => {
  it('starts an export, polls while it is prepared and offers the download when ready', async () => {
    let state: ExportOut[] = []
    const clicked: string[] = []
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.href)
    })
    const { calls } = await mountDialog(() => state, (c) => {
      if (c.method === 'POST' && c.path === '/patients/P1/exports') {
        state = [exp('E1')]
        return json(state[0], 202)
      }
      if (c.method === 'GET' && c.path === '/patients/P1/exports/E1') return json(exp('E1', { status: 'ready', download_url: 'http://s3.test/export.zip' }))
    })
    expect(q('gdpr-empty')).not.toBeNull()
    q('gdpr-start')!.click()
    await flushPromises()
    expect(q('gdpr-progress')?.textContent).toContain('Preparando')
    expect((q('gdpr-start') as HTMLButtonElement).disabled).toBe(true)
    state = [exp('E1', { status: 'ready', files: 12, size: 2_500_000 })]
    await vi.waitFor(() => expect(q('gdpr-download')).not.toBeNull(), { timeout: 2000 })
    const polls = calls.filter((c) => c.method === 'GET' && c.path === '/patients/P1/exports').length
    expect(polls).toBeGreaterThanOrEqual(2)
    expect(q('gdpr-progress')).toBeNull()
    expect(body().textContent).toContain('12 archivos')
    q('gdpr-download')!.click()
    await flushPromises()
    expect(clicked).toEqual(['http://s3.test/export.zip'])
    // nothing running: no more polling
    const before = calls.length
    await new Promise((r) => setTimeout(r, 80))
    expect(calls.length).toBe(before)
    click.mockRestore()
  })

  it('says why an export failed and shows the 409 message', async () => {
    const failed = exp('E0', { status: 'failed', reason: 'Too large (en)', reason_es: 'Demasiado grande', reason_code: 'too_large' })
    await mountDialog(() => [failed], (c) => {
      if (c.method === 'POST') return json(null, 409, 'Ya se está preparando una exportación de los datos de este paciente.')
    })
    expect(q('gdpr-export-failed')?.textContent).toContain('Demasiado grande')
    q('gdpr-start')!.click()
    await flushPromises()
    expect(q('gdpr-error')?.textContent).toContain('Ya se está preparando')
  })
})
