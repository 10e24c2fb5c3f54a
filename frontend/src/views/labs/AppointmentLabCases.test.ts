import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import AppointmentLabCases from './AppointmentLabCases.vue'
import LabCasesTab from './LabCasesTab.vue'
import { mountAt } from '@/test/setup'

const labCase = {
  case_id: 'K1', patient_id: 'P1', patient_name: 'Lucía García', lab_id: 'L1', lab_name: 'Lab Sur', appointment_id: 'A1',
  appointment_start: '2026-11-26T10:00:00+01:00', teeth: [36, 37], work_type: 'bridge', shade: 'A2', material: null, instructions: null,
  priority: 'normal', due_date: '2026-11-20', expected_delivery: null, status: 'shipped', alerts: ['not_back'], history: [], files: [],
  link_active: true, link_expires_at: null, sent_to: null, created_at: '2026-11-01T10:00:00Z', updated_at: '2026-11-01T10:00:00Z', version: 3,
}
const routes = [
  { path: '/labs/cases/:id', name: 'lab-case', component: { template: '<div />' } },
  { path: '/labs/cases/new', name: 'lab-case-new', component: { template: '<div />' } },
]

function api(data: unknown) {
  const fetch = vi.fn(async () => new Response(JSON.stringify({ data, message: null }), { status: 200, headers: { 'Content-Type': 'application/json' } }))
  vi.stubGlobal('fetch', fetch)
  return fetch
}
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('lab cases on an appointment and on the patient record', () => {
  it('lists the appointment\'s cases with their status and alerts', async () => {
    const fetch = api([labCase])
    const { wrapper } = await mountAt(AppointmentLabCases, '/login', routes, { appointmentId: 'A1' })
    await flushPromises()
    expect(String(fetch.mock.calls[0]![0])).toContain('/api/v1/appointments/A1/lab-cases')
    const box = wrapper.get('[data-testid="appointment-lab-cases"]')
    expect(box.text()).toContain('Puente · 36, 37')
    expect(box.text()).toContain('Enviado por el laboratorio')
    expect(box.text()).toContain('No ha vuelto')
  })
  it('shows nothing when the appointment has no lab case', async () => {
    api([])
    const { wrapper } = await mountAt(AppointmentLabCases, '/login', routes, { appointmentId: 'A1' })
    expect(wrapper.find('[data-testid="appointment-lab-cases"]').exists()).toBe(false)
  })
  it('lists the patient\'s cases in the record tab, without repeating the patient', async () => {
    const fetch = api({ items: [labCase], next_cursor: null })
    const { wrapper } = await mountAt(LabCasesTab, '/login', routes, { patientId: 'P1' })
    await flushPromises()
    expect(String(fetch.mock.calls[0]![0])).toContain('/api/v1/patients/P1/lab-cases')
    const row = wrapper.get('[data-testid="lab-case-row"]')
    expect(row.text()).toContain('Lab Sur')
    expect(row.text()).not.toContain('Lucía García')
  })
})
