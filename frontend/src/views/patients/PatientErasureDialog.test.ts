import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import PatientErasureDialog from './PatientErasureDialog.vue'
import { mountAt } from '@/test/setup'
import type { ErasureOut, KindRow } from '@/api/erasure'

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const row = (kind: string, action: KindRow['action'], over: Partial<KindRow> = {}): KindRow => ({
  kind, category: action === 'keep' || action === 'kept' ? 'clinical' : 'none', label: kind, label_es: `es-${kind}`, count: 1, action,
  until: action === 'keep' || action === 'kept' ? '2031-12-04' : null, basis: 'why', basis_es: 'por qué (Ley 41/2002)', ...over,
})
const PREVIEW = [row('contact', 'erase'), row('messages', 'erase'), row('images', 'keep'), row('invoices', 'keep', { category: 'billing', until: '2032-12-31' })]
const erasure = (status: ErasureOut['status']): ErasureOut => ({
  erasure_id: 'E1', status, reason_code: 'patient_request', created_at: '2026-12-04T10:00:00Z', finished_at: null,
  until: { clinical: '2031-12-04' }, report: status === 'pending' ? [] : PREVIEW.map((r) => ({ ...r, action: r.action === 'keep' ? 'kept' : 'erased' })),
})
const json = (data: unknown, status = 200, message: string | null = null) =>
  new Response(JSON.stringify({ data, message }), { status, headers: { 'Content-Type': 'application/json' } })

async function mountDialog(handle: (method: string, path: string, body: unknown) => Response) {
  const calls: { method: string; path: string; body: unknown }[] = []
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
  vi.stubGlobal('fetch', vi.fn(async (input: string, init?: RequestInit) => {
    const path = new URL(input, 'http://x').pathname.replace('/api/v1', '')
    const method = init?.method ?? 'GET'
    const body = init?.body ? JSON.parse(String(init.body)) : null
    calls.push({ method, path, body })
    return handle(method, path, body)
  }))
  const { wrapper } = await mountAt(PatientErasureDialog, '/patients/P1', [], { patientId: 'P1', patientName: 'Lucía Pérez', visible: true, pollMs: 10 })
  await flushPromises()
  return { wrapper, calls }
}
const q = (id: string) => document.body.querySelector(`[data-testid="${id}"]`) as HTMLElement | null

describe('the erasure dialog', () => {
  it('previews what is erased and kept, confirms with the name and shows the report', async () => {
    let state: ErasureOut | null = null
    let polls = 0
    const { calls } = await mountDialog((method, path) => {
      if (method === 'POST') {
        state = erasure('pending')
        return json({ patient_id: 'P1', erasure: state, preview: null }, 202)
      }
      if (state && ++polls > 1) state = erasure('done')
      return json({ patient_id: 'P1', erasure: state, preview: state ? null : PREVIEW })
    })
    expect(q('erasure-gone')!.textContent).toContain('es-contact')
    expect(q('erasure-kept')!.textContent).toContain('es-images')
    expect(q('erasure-kept')!.textContent).toContain('Ley 41/2002')
    expect(q('erasure-row-invoices')!.textContent).toContain('2032')
    q('erasure-next')!.click()
    await flushPromises()
    const submit = q('erasure-submit') as HTMLButtonElement
    expect(submit.disabled).toBe(true)
    const input = q('erasure-name') as HTMLInputElement
    input.value = 'lucia  perez'
    input.dispatchEvent(new Event('input'))
    await flushPromises()
    expect(submit.disabled).toBe(false)
    submit.click()
    await flushPromises()
    await vi.waitFor(() => expect(q('erasure-finished')).not.toBeNull(), { timeout: 2000 })
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.path).toBe('/patients/P1/erasure')
    expect(post.body).toEqual({ reason_code: 'patient_request', confirm_name: 'lucia  perez' })
    expect(q('erasure-finished')!.textContent).toContain('Supresión realizada')
    expect(document.getElementById('erasure-kept')!.textContent).toContain('Conservado bloqueado')
  })

  it('shows the server message when the request is refused', async () => {
    await mountDialog((method) =>
      method === 'POST'
        ? json(null, 409, 'Ya se solicitó la supresión de este paciente')
        : json({ patient_id: 'P1', erasure: null, preview: PREVIEW }),
    )
    q('erasure-next')!.click()
    await flushPromises()
    const input = q('erasure-name') as HTMLInputElement
    input.value = 'Lucía Pérez'
    input.dispatchEvent(new Event('input'))
    await flushPromises()
    q('erasure-submit')!.click()
    await flushPromises()
    expect(q('erasure-error')!.textContent).toContain('Ya se solicitó')
  })
})
