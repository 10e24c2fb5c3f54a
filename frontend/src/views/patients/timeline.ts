// One line of the patient timeline from an event (GET /patients/{id}/timeline): a title in the
// user's language, a detail from the payload, an icon and a tone.

export interface TimelineItem {
  event_id: string
  type: string
  occurred_at: string
  actor: { type: string; id?: string | null; name?: string | null } | null
  data: Record<string, unknown>
}

interface Fmt {
  t: (k: string, p?: Record<string, unknown>) => string
  te: (k: string) => boolean
  d: (v: Date, f: string) => string
}

const ICONS: Record<string, string> = {
  appointment: 'pi pi-calendar', patient: 'pi pi-user', image: 'pi pi-image', document: 'pi pi-file',
  budget: 'pi pi-list', invoice: 'pi pi-euro', payment: 'pi pi-wallet', message: 'pi pi-envelope',
}

export function timelineLine(e: TimelineItem, { t, te, d }: Fmt): { title: string; detail: string; icon: string; tone: 'good' | 'bad' | 'info' } {
  const key = `timeline.types.${e.type.replace(/\./g, '_')}`
  const title = te(key) ? t(key) : t('timeline.other', { type: e.type })
  const [family, action = ''] = e.type.split('.')
  const data = e.data ?? {}
  let detail = ''
  const start = typeof data.start === 'string' ? data.start : null
  if (family === 'appointment' && start) {
    // The clinic's wall-clock time as written in the offset datetime.
    detail = `${d(new Date(`${start.slice(0, 10)}T12:00`), 'short')} · ${start.slice(11, 16)}`
    if (typeof data.duration_min === 'number') detail += ` (${t('agenda.minutes', { n: data.duration_min })})`
  } else if (family === 'image' && typeof data.kind === 'string') {
    detail = te(`imaging.${data.kind}`) ? t(`imaging.${data.kind}`) : data.kind.toUpperCase()
  } else if (e.type === 'patient.updated' && Array.isArray(data.changes)) {
    detail = data.changes.map((c) => (te(`patients.f.${c}`) ? t(`patients.f.${c}`) : String(c))).join(', ')
  } else if (typeof data.number === 'string') {
    detail = data.number
  }
  const tone = /completed|confirmed|accepted|issued|recorded/.test(action) ? 'good' : /cancelled|no_show|failed|rejected/.test(action) ? 'bad' : 'info'
  const icon = e.type === 'patient.medical_updated' ? 'pi pi-heart' : ICONS[family ?? ''] ?? 'pi pi-circle'
  return { title, detail, icon, tone }
}
