import { describe, expect, it } from 'vitest'
import { concernsImagesOf, concernsInbox, noticeFor, RecentIds, type NoticeContext } from './notices'
import type { LiveEvent } from './client'

const ev = (type: string, data: Record<string, unknown>): LiveEvent => ({ type, event_id: 'E', data })
function ctx(over: Partial<NoticeContext> & { perms?: string[]; owned?: string[]; seen?: string[] } = {}): NoticeContext {
  const perms = over.perms ?? ['*']
  return {
    can: (p) => perms.includes('*') || perms.includes(p),
    own: (id) => !!id && (over.owned ?? []).includes(id),
    announced: (id) => !!id && (over.seen ?? []).includes(id),
    userId: 'U1',
    ...over,
  }
}

describe('which events make a toast, and what it says', () => {
  it('a capture for a patient: "new X-ray for <name>" linking to the images; in the inbox: a link to the inbox', () => {
    expect(noticeFor(ev('capture.received', { image_id: 'I1', patient_id: 'P1', inbox: false, kind: 'xray' }), ctx())).toMatchObject({
      summary: 'live.capture.xray', patientId: 'P1', link: { to: '/patients/P1/images' }, announces: 'I1',
    })
    expect(noticeFor(ev('capture.received', { image_id: 'I2', patient_id: null, inbox: true, kind: 'dicom' }), ctx())).toMatchObject({
      summary: 'live.capture.inbox', patientId: null, link: { to: '/inbox', label: 'live.openInbox' }, severity: 'warn',
    })
    // Without the imaging permission: no news about images at all.
    expect(noticeFor(ev('capture.received', { image_id: 'I2', inbox: true }), ctx({ perms: ['agenda.appointments.read'] }))).toBeNull()
  })

  it('an image ready: "ready" for a capture already announced, "new" otherwise; not for this tab’s own upload or an inbox image', () => {
    const processed = (id: string, pid: string | null, kind = 'xray') => ev('image.processed', { image_id: id, patient_id: pid, kind })
    expect(noticeFor(processed('I1', 'P1'), ctx({ seen: ['I1'] }))?.summary).toBe('live.image.xrayReady')
    expect(noticeFor(processed('I3', 'P1'), ctx())?.summary).toBe('live.image.newXray')
    expect(noticeFor(processed('I4', 'P1', 'photo'), ctx())?.summary).toBe('live.image.newPhoto')
    expect(noticeFor(processed('I5', 'P1'), ctx({ owned: ['I5'] }))).toBeNull()
    expect(noticeFor(processed('I6', null), ctx())).toBeNull()
    // Without patients.read the toast has no link to a record it cannot open.
    expect(noticeFor(processed('I3', 'P1'), ctx({ perms: ['imaging.images.read'] }))?.link).toBeUndefined()
    expect(noticeFor(ev('image.failed', { image_id: 'I7', patient_id: 'P1' }), ctx())).toMatchObject({ severity: 'error', summary: 'live.image.failed' })
  })

  it('appointment changes from other desks or the patient’s link, never this tab’s or this user’s own', () => {
    const data = { appointment_id: 'A1', patient_id: 'P1', start: '2026-03-09T10:30:00+01:00', status: 'confirmed' }
    expect(noticeFor(ev('appointment.confirmed', { ...data, actor: { type: 'link', id: 'L1' } }), ctx())).toMatchObject({
      summary: 'live.appt.confirmed', when: data.start, by: { kind: 'link' }, link: { to: '/agenda?date=2026-03-09' },
    })
    expect(noticeFor(ev('appointment.updated', { ...data, rescheduled: true, actor: { type: 'user', id: 'U2', name: 'Rosa' } }), ctx())).toMatchObject({
      summary: 'live.appt.rescheduled', by: { kind: 'user', name: 'Rosa' },
    })
    expect(noticeFor(ev('appointment.cancelled', data), ctx())?.severity).toBe('warn')
    // What the live backend sends: ids and statuses only (no start, no actor).
    expect(noticeFor(ev('appointment.updated', { appointment_id: 'A2', patient_id: 'P1', status: 'scheduled', rescheduled: true }), ctx())).toMatchObject({
      summary: 'live.appt.rescheduled', appointmentId: 'A2', when: undefined, by: undefined, link: { to: '/agenda' },
    })
    expect(noticeFor(ev('appointment.scheduled', data), ctx({ owned: ['A1'] }))).toBeNull()
    expect(noticeFor(ev('appointment.scheduled', { ...data, actor: { type: 'user', id: 'U1' } }), ctx())).toBeNull()
    expect(noticeFor(ev('appointment.scheduled', data), ctx({ perms: ['patients.read'] }))).toBeNull()
  })

  it('inbound WhatsApp messages, from a patient or an unknown number; other events make no toast', () => {
    expect(noticeFor(ev('message.received', { message_id: 'M1', patient_id: 'P1', kind: 'inbound' }), ctx())).toMatchObject({
      summary: 'live.message.from', patientId: 'P1', link: { to: '/messages?patient=P1', label: 'live.openConversation' },
    })
    expect(noticeFor(ev('message.received', { message_id: 'M2', patient_id: null }), ctx())).toMatchObject({ summary: 'live.message.unknown', link: { to: '/messages' } })
    expect(noticeFor(ev('message.received', { patient_id: 'P1' }), ctx({ perms: ['patients.read'] }))).toBeNull()
    expect(noticeFor(ev('document.uploaded', { document_id: 'D1', patient_id: 'P1' }), ctx())).toBeNull()
    expect(noticeFor(ev('capture.assigned', { image_id: 'I1', patient_id: 'P1', count: 1 }), ctx())).toBeNull()
  })
})

describe('which screens refresh', () => {
  it('the open patient’s images on image.* and capture.* for that patient; the inbox on capture.* and inbox images', () => {
    expect(concernsImagesOf(ev('image.processed', { patient_id: 'P1' }), 'P1')).toBe(true)
    expect(concernsImagesOf(ev('capture.assigned', { patient_id: 'P1' }), 'P1')).toBe(true)
    expect(concernsImagesOf(ev('image.processed', { patient_id: 'P2' }), 'P1')).toBe(false)
    expect(concernsImagesOf(ev('appointment.confirmed', { patient_id: 'P1' }), 'P1')).toBe(false)
    expect(concernsInbox(ev('capture.received', { inbox: false, patient_id: 'P1' }))).toBe(true)
    expect(concernsInbox(ev('capture.assigned', { patient_id: 'P1' }))).toBe(true)
    expect(concernsInbox(ev('image.processed', { patient_id: null }))).toBe(true)
    expect(concernsInbox(ev('image.processed', { patient_id: 'P1' }))).toBe(false)
    expect(concernsInbox(ev('appointment.updated', {}))).toBe(false)
  })
})

describe('recent ids', () => {
  it('remembers an id for a while, then forgets it', () => {
    let now = 0
    const r = new RecentIds(1000, () => now)
    r.add('A')
    r.add(null)
    expect(r.has('A')).toBe(true)
    expect(r.has(null)).toBe(false)
    now = 1001
    expect(r.has('A')).toBe(false)
  })
})
