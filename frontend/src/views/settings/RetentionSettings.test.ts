import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import RetentionSettings from './RetentionSettings.vue'
import { mountAt } from '@/test/setup'

afterEach(() => vi.unstubAllGlobals())

const RANGE = { min: 1, max: 20 }
const json = (data: unknown, status = 200, message: string | null = null) =>
  new Response(JSON.stringify({ data, message }), { status, headers: { 'Content-Type': 'application/json' } })

describe('the retention settings', () => {
  it('shows the periods with their legal minimums, saves and shows a refusal', async () => {
    const sent: unknown[] = []
    vi.stubGlobal('fetch', vi.fn(async (_input: string, init?: RequestInit) => {
      if (init?.method === 'PUT') {
        const body = JSON.parse(String(init.body))
        sent.push(body)
        if (body.clinical < 5) return json(null, 422, 'Un plazo de conservación no puede ser más corto que el legal')
        if (body.messages !== null && (body.messages < 1 || body.messages > 20)) return json(null, 422, 'Los mensajes se pueden conservar entre 1 y 20 años')
        const { messages, ...periods } = body
        return json({ periods, minimums: { clinical: 5, billing: 6 }, messages, messages_range: RANGE, updated_at: null })
      }
      return json({ periods: { clinical: 5, billing: 6 }, minimums: { clinical: 5, billing: 6 }, messages: null, messages_range: RANGE, updated_at: null })
    }))
    const { wrapper } = await mountAt(RetentionSettings, '/settings/data-protection', [])
    await flushPromises()
    const clinical = wrapper.get('[data-testid="retention-clinical"]')
    expect((clinical.element as HTMLInputElement).value).toBe('5')
    expect(wrapper.text()).toContain('Ley 41/2002')
    expect(wrapper.text()).toContain('Código de Comercio')
    await clinical.setValue('15')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(sent[0]).toEqual({ clinical: 15, billing: 6, messages: null })
    expect(wrapper.find('[data-testid="retention-saved"]').exists()).toBe(true)
    await clinical.setValue('3')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="retention-error"]').text()).toContain('más corto')
  })

  it('sets a period for messages, shows no limit when empty and clears it with an empty field', async () => {
    const sent: Record<string, unknown>[] = []
    let messages: number | null = null
    vi.stubGlobal('fetch', vi.fn(async (_input: string, init?: RequestInit) => {
      if (init?.method === 'PUT') {
        const body = JSON.parse(String(init.body))
        sent.push(body)
        if (body.messages !== null && (body.messages < 1 || body.messages > 20)) return json(null, 422, 'Los mensajes se pueden conservar entre 1 y 20 años')
        messages = body.messages
      }
      return json({ periods: { clinical: 5, billing: 6 }, minimums: { clinical: 5, billing: 6 }, messages, messages_range: RANGE, updated_at: null })
    }))
    const { wrapper } = await mountAt(RetentionSettings, '/settings/data-protection', [])
    await flushPromises()
    const field = wrapper.get('[data-testid="retention-messages"]')
    expect((field.element as HTMLInputElement).value).toBe('')
    expect(wrapper.get('[data-testid="retention-messages-none"]').text()).toBe('Sin límite')
    expect(wrapper.text()).toContain('art. 5.1.e')
    await field.setValue('3')
    expect(wrapper.find('[data-testid="retention-messages-none"]').exists()).toBe(false)
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(sent[0]).toEqual({ clinical: 5, billing: 6, messages: 3 })
    expect((field.element as HTMLInputElement).value).toBe('3')
    await field.setValue('21')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="retention-error"]').text()).toContain('entre 1 y 20')
    await field.setValue('')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(sent[2]).toEqual({ clinical: 5, billing: 6, messages: null })
    expect(wrapper.get('[data-testid="retention-messages-none"]').text()).toBe('Sin límite')
  })
})
