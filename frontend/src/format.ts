// Small display helpers shared by the screens (pure; unit-tested).
import type { Alert } from '@/api/patients'

type T = (key: string, params?: Record<string, unknown>) => string

/** "miércoles, 25 de noviembre" -> "Miércoles, 25 de noviembre" (CSS `capitalize` would also
 *  capitalise "De"). */
export function capitalize(s: string): string {
  return s ? s[0]!.toLocaleUpperCase() + s.slice(1) : s
}

/**
 * An alert in the user's language. The API sends a stable `code` and an English `message`
 * whose variable part (the substance, the weeks, the diabetes type) is only in the text, so
 * that part is read back from the message; an unknown code or shape shows the API's message.
 */
export function alertText(a: Alert, t: T, has: (key: string) => boolean): string {
  const key = `alerts.${a.code}`
  if (!has(key)) return a.message
  const after = /:\s*(.+)$/.exec(a.message)?.[1]
  switch (a.code) {
    case 'allergy':
    case 'allergy_severe':
    case 'allergy_anaphylaxis':
      return after ? t(key, { substance: after }) : a.message
    case 'pregnant': {
      const weeks = /\((\d+) weeks?\)/.exec(a.message)?.[1]
      return weeks ? t('alerts.pregnantWeeks', { n: weeks }) : t(key)
    }
    case 'diabetes': {
      const type = /\((type 1|type 2|gestational)\)/.exec(a.message)?.[1]
      const k = { 'type 1': 'type1', 'type 2': 'type2', gestational: 'gestational' }[type ?? '']
      return k ? t(key, { type: t(`medical.diab.${k}`) }) : a.message
    }
    default:
      return t(key)
  }
}

/** Spanish numbers grouped as people read them: "+34629114289" -> "+34 629 11 42 89". */
export function formatPhone(raw: string | null | undefined): string {
  if (!raw) return ''
  const digits = raw.replace(/[^\d+]/g, '')
  const es = /^(?:\+34|0034)?([6789]\d{8})$/.exec(digits)
  if (!es) return raw
  const n = es[1]!
  const grouped = n.startsWith('6') || n.startsWith('7') ? `${n.slice(0, 3)} ${n.slice(3, 5)} ${n.slice(5, 7)} ${n.slice(7)}` : `${n.slice(0, 2)} ${n.slice(2, 5)} ${n.slice(5, 7)} ${n.slice(7)}`
  return digits.startsWith('+34') || digits.startsWith('0034') ? `+34 ${grouped}` : grouped
}

export function initials(name: string): string {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((s) => s[0]!.toLocaleUpperCase()).join('')
}
