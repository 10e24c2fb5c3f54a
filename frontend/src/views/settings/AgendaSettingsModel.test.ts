import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/http'
import { daysBetween, editRange, hoursErrors, localProblems, nextRange, sameWeek, toBody, toEdit, upcoming } from './AgendaSettingsModel'

describe('agenda settings: the week as edited', () => {
  it('round-trips the API hours, keeping the order shown (so the API indices point at the rows)', () => {
    const week = toEdit({ monday: [{ start: '16:00', end: '20:00' }, { start: '09:00', end: '14:00' }] })
    expect(week.monday.map((r) => r.start)).toEqual(['16:00', '09:00'])
    expect(week.sunday).toEqual([])
    const body = toBody(week)
    expect(Object.keys(body)).toEqual(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'])
    expect(body.monday).toEqual([{ start: '16:00', end: '20:00' }, { start: '09:00', end: '14:00' }])
    // Row keys are for Vue only: two copies of the same hours are the same week.
    expect(sameWeek(week, toEdit(body))).toBe(true)
    week.monday[0]!.end = '21:00'
    expect(sameWeek(week, toEdit(body))).toBe(false)
  })

  it('a new range follows the last one, or is the usual morning', () => {
    expect(nextRange([])).toMatchObject({ start: '09:00', end: '14:00' })
    expect(nextRange([editRange({ start: '09:00', end: '14:00' })])).toMatchObject({ start: '15:00', end: '19:00' })
    expect(nextRange([editRange({ start: '09:00', end: '21:30' })])).toMatchObject({ start: '22:30', end: '23:55' })
    expect(nextRange([editRange({ start: '09:00', end: '23:30' })])).toMatchObject({ start: '', end: '' })
    expect(nextRange([editRange({ start: '09:00', end: '' })])).toMatchObject({ start: '09:00', end: '14:00' })
  })

  it('checks what it can before sending: empty times and an end not after its start', () => {
    const week = toEdit({ tuesday: [{ start: '09:00', end: '14:00' }, { start: '', end: '18:00' }], friday: [{ start: '14:00', end: '09:00' }, { start: '10:00', end: '' }] })
    expect(localProblems(week)).toEqual({ 'tuesday.1.start': 'required', 'friday.0.end': 'endAfterStart', 'friday.1.end': 'required' })
    // Overlaps are the API's to judge (and name).
    expect(localProblems(toEdit({ monday: [{ start: '09:00', end: '14:00' }, { start: '13:00', end: '15:00' }] }))).toEqual({})
  })

  it("places the API's 422 on the range it names; anything else goes to the whole form", () => {
    const e = new ApiError(422, 'VALIDATION_FAILED', 'Some fields are not valid.', [
      { field: 'tuesday.1.start', message: 'se solapa con 09:00-14:00 el martes' },
      { field: 'tuesday.1.start', message: 'second message for the same field' },
      { field: 'body.friday.0.end', message: 'end must be after start' },
      { field: 'funday', message: 'Extra inputs are not permitted' },
    ])
    expect(hoursErrors(e)).toEqual({
      'tuesday.1.start': 'se solapa con 09:00-14:00 el martes',
      'friday.0.end': 'end must be after start',
      form: 'Extra inputs are not permitted',
    })
  })
})

describe('agenda settings: closed days', () => {
  it('lists those from today on, soonest first', () => {
    const list = [
      { date: '2026-12-25', name: 'Navidad' },
      { date: '2026-12-01', name: 'Pasado' },
      { date: '2026-12-03', name: 'Hoy' },
      { date: '2026-12-08', name: 'Inmaculada' },
    ]
    expect(upcoming(list, '2026-12-03').map((h) => h.name)).toEqual(['Hoy', 'Inmaculada', 'Navidad'])
  })

  it('counts the days of a range, both ends included, across a month and a DST change', () => {
    expect(daysBetween('2026-08-01', '2026-08-15')).toBe(15)
    expect(daysBetween('2026-10-20', '2026-11-02')).toBe(14)
    expect(daysBetween('2026-08-01', '2026-08-01')).toBe(1)
    expect(daysBetween('2026-08-02', '2026-08-01')).toBe(0)
    expect(daysBetween('2026-08-02', '')).toBe(0)
  })
})
