import { describe, expect, it } from 'vitest'
import { agendaDay, countOf, dayOrder, firstName, isStatusGroup, statTarget, withAlerts } from './dashboard'
import type { Appointment, Day } from '@/api/agenda'

const d = (date: string, closed: boolean): Day => ({ date, weekday: '', time_zone: 'Europe/Madrid', closed, holiday: null, hours: [], appointments: [] })

describe('which day the dashboard shows', () => {
  it('today when the clinic opens today, even with nothing booked', () => {
    expect(agendaDay([d('2026-11-25', false), d('2026-11-26', false)])).toEqual({ day: d('2026-11-25', false), todayClosed: false })
  })
  it('the next open day on a weekend or a holiday', () => {
    const r = agendaDay([d('2026-11-28', true), d('2026-11-29', true), d('2026-11-30', false)])
    expect(r.day?.date).toBe('2026-11-30')
    expect(r.todayClosed).toBe(true)
  })
  it('nothing when the clinic opens on none of the days', () => {
    expect(agendaDay([d('2026-11-28', true)])).toEqual({ day: null, todayClosed: true })
    expect(agendaDay([])).toEqual({ day: null, todayClosed: false })
  })
})

describe("the day's patients with alerts", () => {
  const alert = { code: 'allergy_severe', level: 'critical' as const, message: 'Severe allergy: Penicilina' }
  const appt = (id: string, patient: string, start: string, alerts = [alert], status = 'scheduled') =>
    ({ appointment_id: id, patient_id: patient, start, status, patient_alerts: alerts }) as unknown as Appointment
  it('each patient once, by the first visit, without a read per patient', () => {
    const list = [appt('a3', 'p1', '2026-11-25T12:00'), appt('a1', 'p2', '2026-11-25T09:00', []), appt('a2', 'p1', '2026-11-25T10:00'), appt('a4', 'p3', '2026-11-25T11:00')]
    expect(withAlerts(list).map((a) => a.appointment_id)).toEqual(['a2', 'a4'])
  })
  it('leaves out cancelled visits', () => {
    expect(withAlerts([appt('a1', 'p1', '2026-11-25T09:00', [alert], 'cancelled')])).toEqual([])
  })
})

describe('the greeting', () => {
  it('greets by the first name, never by a title', () => {
    expect(firstName('Dra. Marta López')).toBe('Marta')
    expect(firstName('Dr Juan Pérez')).toBe('Juan')
    expect(firstName('Elena Sánchez')).toBe('Elena')
    expect(firstName('  Sra.  Ana ')).toBe('Ana')
    expect(firstName('Dra.')).toBe('Dra.')
    expect(firstName(undefined)).toBe('')
  })
})

describe("the day's list", () => {
  const ap = (id: string, start: string, status: string, professional_id = 'U2') => ({ appointment_id: id, start: `2026-12-02T${start}:00+01:00`, status, professional_id }) as unknown as Appointment
  it('leads with who is in the chair or waiting, then who is next, and ends with who is done', () => {
    const list = [ap('done', '09:00', 'completed'), ap('next2', '12:00', 'scheduled'), ap('chair', '10:00', 'in_progress'), ap('next1', '11:30', 'confirmed'), ap('waiting', '10:30', 'checked_in'), ap('gone', '09:30', 'no_show'), ap('off', '08:30', 'cancelled')]
    expect(dayOrder(list).map((a) => a.appointment_id)).toEqual(['chair', 'waiting', 'next1', 'next2', 'done', 'gone', 'off'])
  })
  it("a professional's own patients first within each group", () => {
    const list = [ap('other', '11:00', 'scheduled', 'U2'), ap('mine', '12:00', 'scheduled', 'U1')]
    expect(dayOrder(list, 'U1').map((a) => a.appointment_id)).toEqual(['mine', 'other'])
    expect(dayOrder(list, null).map((a) => a.appointment_id)).toEqual(['other', 'mine'])
  })
})

describe('each count opens the list of exactly those', () => {
  const appt = (status: string) => ({ appointment_id: status, patient_id: 'p', start: '2026-11-25T09:00', status, patient_alerts: [] }) as unknown as Appointment
  const day = ['scheduled', 'confirmed', 'checked_in', 'in_progress', 'completed', 'completed'].map(appt)
  it('counts each group by its statuses', () => {
    expect(countOf('appointments', day)).toBe(6)
    expect(countOf('pending', day)).toBe(2)
    expect(countOf('arrived', day)).toBe(2)
    expect(countOf('done', day)).toBe(2)
    expect(countOf('appointments', [appt('cancelled'), appt('no_show')])).toBe(0)
  })
  it('leads to the agenda of that day filtered to the group, the alerts to their list', () => {
    expect(statTarget('pending', '2026-11-25')).toEqual({ route: { name: 'agenda', query: { view: 'day', date: '2026-11-25', show: 'pending' } } })
    expect(statTarget('arrived', '2026-11-25')).toEqual({ route: { name: 'agenda', query: { view: 'day', date: '2026-11-25', show: 'arrived' } } })
    expect(statTarget('appointments', undefined)).toEqual({ route: { name: 'agenda', query: { view: 'day', show: 'appointments' } } })
    expect(statTarget('alerts', '2026-11-25')).toEqual({ section: 'dashboard-alerts-title' })
  })
  it('the agenda accepts only the known groups', () => {
    expect(['appointments', 'pending', 'arrived', 'done'].every(isStatusGroup)).toBe(true)
    expect(isStatusGroup('toString')).toBe(false)
    expect(isStatusGroup(['pending'])).toBe(false)
    expect(isStatusGroup(undefined)).toBe(false)
  })
})
