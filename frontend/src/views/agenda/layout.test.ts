import { describe, expect, it } from 'vitest'
import { closedRanges, conflictText, hourRange, lanes } from './layout'
import type { Appointment, Day } from '@/api/agenda'

const span = (id: string, start: number, end: number) => ({ id, start, end })

describe('lanes', () => {
  it('keeps back-to-back appointments full width', () => {
    const l = lanes([span('a', 600, 630), span('b', 630, 660)])
    expect(l.get('a')).toEqual({ lane: 0, lanes: 1 })
    expect(l.get('b')).toEqual({ lane: 0, lanes: 1 })
  })
  it('puts overlapping appointments side by side, sharing the cluster width', () => {
    // a overlaps b, b overlaps c, a and c do not: c reuses a's lane; all three are in one
    // cluster of two lanes.
    const l = lanes([span('a', 600, 660), span('b', 630, 720), span('c', 670, 700)])
    expect(l.get('a')).toEqual({ lane: 0, lanes: 2 })
    expect(l.get('b')).toEqual({ lane: 1, lanes: 2 })
    expect(l.get('c')).toEqual({ lane: 0, lanes: 2 })
  })
  it('starts a new cluster after a gap', () => {
    const l = lanes([span('a', 600, 660), span('b', 600, 660), span('c', 600, 630), span('d', 700, 730)])
    expect(l.get('c')!.lanes).toBe(3)
    expect(l.get('d')).toEqual({ lane: 0, lanes: 1 })
  })
  it('is independent of the input order', () => {
    const a = lanes([span('x', 600, 700), span('y', 610, 620), span('z', 650, 720)])
    const b = lanes([span('z', 650, 720), span('y', 610, 620), span('x', 600, 700)])
    expect([...a.entries()].sort()).toEqual([...b.entries()].sort())
  })
})

const day = (hours: { start: string; end: string }[], appts: Partial<Appointment>[] = [], closed = false): Day => ({
  date: '2026-11-23', weekday: 'monday', time_zone: 'Europe/Madrid', closed, holiday: null, hours,
  appointments: appts.map((a) => ({ duration_min: 30, ...a }) as Appointment),
})

describe('hours shown and closed bands', () => {
  it('shows the opening hours with an hour of margin, widened by an appointment outside them', () => {
    expect(hourRange([day([{ start: '09:00', end: '14:00' }, { start: '16:00', end: '20:00' }])])).toEqual([480, 1260])
    expect(hourRange([day([{ start: '09:00', end: '14:00' }], [{ start: '2026-11-23T20:30:00+01:00', duration_min: 45 }])])).toEqual([480, 1380]) // ends 21:15: up to 22:00, plus an hour
    expect(hourRange([day([], [], true)])).toEqual([480, 1260]) // nothing open: a sensible default
  })
  it('shades what is outside the opening hours, and a closed day whole', () => {
    expect(closedRanges(day([{ start: '16:00', end: '20:00' }, { start: '09:00', end: '14:00' }]), 480, 1260)).toEqual([[480, 540], [840, 960], [1200, 1260]])
    expect(closedRanges(day([], [], true), 480, 1260)).toEqual([[480, 1260]])
  })
})

describe('conflictText', () => {
  const t = (k: string, p: Record<string, unknown> = {}) => `${k}(${Object.entries(p).map(([a, b]) => `${a}=${b}`).join(',')})`
  const names = { cabinet: (id: string) => ({ c1: 'Gabinete 1' })[id], professional: (id: string) => ({ u1: 'Dra. Martín' })[id] }
  it('names the busy cabinet, the times in the clinic zone and the patient', () => {
    const data = { resource: 'cabinet', conflict_with: { start: '2026-11-26T10:00:00+01:00', end: '2026-11-26T10:30:00+01:00', cabinet_id: 'c1', patient_name: 'Ana Romero' } }
    expect(conflictText(data, t, names)).toBe('agenda.conflictCabinet(resource=Gabinete 1,start=10:00,end=10:30) agenda.conflictWith(patient=Ana Romero)')
  })
  it('names the busy professional, without a patient for roles that cannot see it', () => {
    const data = { resource: 'professional', conflict_with: { start: '2026-11-26T09:45:00+01:00', end: '2026-11-26T10:15:00+01:00', professional_id: 'u1' } }
    expect(conflictText(data, t, names)).toBe('agenda.conflictProfessional(resource=Dra. Martín,start=09:45,end=10:15)')
  })
  it('says the patient is already booked at that time, and in which chair', () => {
    const data = { resource: 'patient', conflict_with: { start: '2026-11-26T10:00:00+01:00', end: '2026-11-26T10:30:00+01:00', cabinet_id: 'c1', patient_name: 'Ana Romero' } }
    expect(conflictText(data, t, names)).toBe('agenda.conflictPatient(start=10:00,end=10:30,resource=Gabinete 1)')
  })
  it('returns null when the error carries no conflict, so the API message is shown', () => {
    expect(conflictText(null, t, names)).toBeNull()
    expect(conflictText({ resource: 'cabinet' }, t, names)).toBeNull()
  })
})
