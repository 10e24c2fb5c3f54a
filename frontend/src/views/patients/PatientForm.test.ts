import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import PatientForm from './PatientForm.vue'
import { mountAt } from '@/test/setup'

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

async function fill(city: string, line1 = '', postal = '') {
  const posted: Record<string, unknown>[] = []
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_input: string, init?: RequestInit) => {
      posted.push(JSON.parse(String(init?.body ?? '{}')))
      return new Response(JSON.stringify({ data: { patient_id: 'P1' }, message: null }), { status: 201, headers: { 'Content-Type': 'application/json' } })
    }),
  )
  const { wrapper } = await mountAt(PatientForm, '/patients')
  await wrapper.get('#p-first').setValue('Lucía')
  await wrapper.get('#p-last').setValue('Romero')
  await wrapper.get('#p-dob').setValue('1985-04-12')
  await wrapper.get('#p-city').setValue(city)
  await wrapper.get('#p-line1').setValue(line1)
  await wrapper.get('#p-pc').setValue(postal)
  await wrapper.get('form').trigger('submit')
  await flushPromises()
  return { wrapper, posted }
}

describe('patient form: the address', () => {
  it('half an address is not dropped without a word: the missing parts are asked for', async () => {
    const { wrapper, posted } = await fill('Alcorcón')
    expect(posted).toHaveLength(0)
    expect(wrapper.text()).toContain('Este campo es obligatorio')
    expect(wrapper.find('#p-city').attributes('aria-invalid')).not.toBe('true')
  })

  it('a whole address is sent; none at all is fine too', async () => {
    const whole = await fill('Alcorcón', 'Calle Toledo 59', '28016')
    expect(whole.posted[0].address).toEqual({ line1: 'Calle Toledo 59', city: 'Alcorcón', postal_code: '28016' })
    document.body.innerHTML = ''
    const none = await fill('')
    expect(none.posted).toHaveLength(1)
    expect(none.posted[0].address).toBeUndefined()
  })
})

describe('patient form: the emergency contact', () => {
  it('a name without a phone is asked to be completed; a whole one is sent', async () => {
    const { wrapper, posted } = await fill('')
    expect(posted).toHaveLength(1)
    document.body.innerHTML = ''
    const half = await mountAt(PatientForm, '/patients')
    await half.wrapper.get('#p-first').setValue('Lucía')
    await half.wrapper.get('#p-last').setValue('Romero')
    await half.wrapper.get('#p-dob').setValue('1985-04-12')
    await half.wrapper.get('#p-ename').setValue('Luis Romero')
    await half.wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(posted).toHaveLength(1) // nothing more was sent
    expect(half.wrapper.get('#p-ephone').attributes('aria-invalid')).toBe('true')
    await half.wrapper.get('#p-ephone').setValue('+34 600 111 222')
    await half.wrapper.get('#p-erel').setValue('hermano')
    await half.wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(posted.at(-1)!.emergency_contact).toEqual({ name: 'Luis Romero', phone: '+34 600 111 222', relationship: 'hermano' })
    void wrapper
  })
})

describe('patient form: the insurer', () => {
  it('a policy number without the company is asked to be completed; a whole insurer is sent, none means private', async () => {
    const none = await fill('')
    expect(none.posted).toHaveLength(1)
    expect(none.posted[0].insurer).toBeUndefined()
    document.body.innerHTML = ''
    const half = await mountAt(PatientForm, '/patients')
    await half.wrapper.get('#p-first').setValue('Lucía')
    await half.wrapper.get('#p-last').setValue('Romero')
    await half.wrapper.get('#p-dob').setValue('1985-04-12')
    await half.wrapper.get('#p-ipolicy').setValue('SAN-123')
    await half.wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(none.posted).toHaveLength(1) // nothing more was sent
    expect(half.wrapper.get('#p-icompany').attributes('aria-invalid')).toBe('true')
    expect(half.wrapper.get('#p-icompany').attributes('list')).toBe('p-insurers')
    await half.wrapper.get('#p-icompany').setValue('Sanitas')
    await half.wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(none.posted.at(-1)!.insurer).toEqual({ company: 'Sanitas', policy_number: 'SAN-123', holder_name: null })
  })
})
