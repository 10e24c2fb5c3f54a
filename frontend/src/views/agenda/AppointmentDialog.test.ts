import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import AppointmentDialog from './AppointmentDialog.vue'
import type { Appointment } from '@/api/agenda'
import { mountAt } from '@/test/setup'

const appt: Appointment = {
  appointment_id: 'A1', patient_id: 'P1', patient_name: 'Lucía García', patient_alerts: [], professional_id: 'U1', professional_name: 'Dra. Ruiz',
  cabinet_id: 'C1', start: '2026-11-26T10:00:00+01:00', end: '2026-11-26T10:40:00+01:00', time_zone: 'Europe/Madrid', duration_min: 40,
  reason: 'Revisión', treatment: null, colour: null, notes: null, status: 'scheduled', allowed_transitions: ['confirmed', 'cancelled'], outside_hours: false,
} as Appointment
const props = {
  date: '2026-11-26', minute: 0, appointment: appt,
  cabinets: [{ cabinet_id: 'C1', name: 'Gabinete 1', active: true }, { cabinet_id: 'C2', name: 'Gabinete 2', active: true }],
  professionals: [{ user_id: 'U1', name: 'Dra. Ruiz' }],
}

function api(reply: { status: number; body: unknown }) {
  const fetch = vi.fn(async (_url: string, _init: RequestInit) => new Response(JSON.stringify(reply.body), { status: reply.status, headers: { 'Content-Type': 'application/json' } }))
  vi.stubGlobal('fetch', fetch)
  return fetch
}

beforeEach(() => {
  // PrimeVue's Select asks for media queries, which jsdom lacks.
  vi.stubGlobal('matchMedia', (query: string) => ({ matches: false, media: query, addEventListener() {}, removeEventListener() {} }))
})
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('editing an appointment (how the keyboard reschedules)', () => {
  it('opens with the appointment as it is and sends only what changed', async () => {
    const fetch = api({ status: 200, body: { data: { ...appt, start: '2026-11-27T11:30:00+01:00' }, message: null } })
    const { wrapper } = await mountAt(AppointmentDialog, '/login', [], props)
    expect(wrapper.get('[data-testid="appointment-patient"]').text()).toBe('Lucía García')
    expect((wrapper.get('#ap-time').element as HTMLInputElement).value).toBe('10:00')
    expect((wrapper.get('#ap-date').element as HTMLInputElement).value).toBe('2026-11-26')
    // PrimeVue's Dialog focuses the first [autofocus] field once it has opened, else its close
    // button: an Enter typed meanwhile then closed the dialog and lost the change.
    expect(wrapper.get('#ap-date').attributes()).toHaveProperty('autofocus')
    await wrapper.get('#ap-date').setValue('2026-11-27')
    await wrapper.get('#ap-time').setValue('11:30')
    await wrapper.get('#ap-change').setValue('La paciente lo pidió por teléfono')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(fetch).toHaveBeenCalledTimes(1)
    const [url, init] = fetch.mock.calls[0]
    expect(url).toContain('/appointments/A1')
    expect(init.method).toBe('PATCH')
    expect(JSON.parse(String(init.body))).toEqual({ override: false, start: '2026-11-27T11:30', reschedule_reason: 'La paciente lo pidió por teléfono' })
    expect(wrapper.emitted('saved')?.[0]?.[0]).toMatchObject({ start: '2026-11-27T11:30:00+01:00' })
  })

  it('shows the conflict when the API refuses the new slot, and stays open', async () => {
    api({
      status: 409,
      body: {
        data: { resource: 'cabinet', conflict_with: { start: '2026-11-26T12:00:00+01:00', end: '2026-11-26T12:30:00+01:00', cabinet_id: 'C1', patient_name: 'Pedro Sanz' } },
        message: 'The cabinet is booked.', code: 'APPOINTMENT_CONFLICT',
      },
    })
    const { wrapper } = await mountAt(AppointmentDialog, '/login', [], props)
    await wrapper.get('#ap-time').setValue('12:00')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="appointment-conflict"]').text()).toContain('Gabinete 1 ya está ocupado de 12:00 a 12:30 con Pedro Sanz')
    expect(wrapper.emitted('saved')).toBeUndefined()
  })
})

describe('booking a new appointment (the keyboard gets into the dialog)', () => {
  it('the patient search input, not its wrapper, is the field the dialog focuses first', async () => {
    const { wrapper } = await mountAt(AppointmentDialog, '/login', [], { ...props, appointment: null })
    // PrimeVue's Dialog focuses the first [autofocus] element once it has opened; on a <div> that
    // did nothing and the focus stayed behind the dialog.
    const first = wrapper.element.querySelector('[autofocus]')
    expect(first?.id).toBe('ap-patient')
    expect(first?.tagName).toBe('INPUT')
    expect(wrapper.get('#ap-date').attributes()).not.toHaveProperty('autofocus')
  })
})
