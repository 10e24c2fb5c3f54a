import { describe, expect, it } from 'vitest'
import { alertText, capitalize, formatPhone, initials } from './format'
import { i18n } from './i18n'
import type { Alert } from './api/patients'

const g = i18n.global
const es = (a: Alert) => {
  g.locale.value = 'es'
  return alertText(a, g.t, (k) => g.te(k))
}
const alert = (code: string, message: string, level: Alert['level'] = 'warning'): Alert => ({ code, message, level })

describe('alertText', () => {
  it('says the API alerts in Spanish, keeping the substance', () => {
    expect(es(alert('allergy_severe', 'Severe allergy: Penicilina', 'critical'))).toBe('Alergia grave: Penicilina')
    expect(es(alert('allergy_anaphylaxis', 'Anaphylaxis risk: Látex', 'critical'))).toBe('Riesgo de anafilaxia: Látex')
    expect(es(alert('allergy', 'Allergy: Ibuprofeno: tabletas'))).toBe('Alergia: Ibuprofeno: tabletas')
    expect(es(alert('anticoagulated', 'Anticoagulated', 'critical'))).toBe('Anticoagulado/a')
  })
  it('reads the weeks of a pregnancy and the type of diabetes', () => {
    expect(es(alert('pregnant', 'Pregnant (22 weeks)'))).toBe('Embarazo (22 semanas)')
    expect(es(alert('pregnant', 'Pregnant'))).toBe('Embarazo')
    expect(es(alert('diabetes', 'Diabetes (type 2)'))).toBe('Diabetes (Tipo 2)')
  })
  it("falls back to the API's message for an unknown code or an unexpected shape", () => {
    expect(es(alert('new_rule', 'Something new'))).toBe('Something new')
    expect(es(alert('allergy', 'Allergy without substance'))).toBe('Allergy without substance')
    expect(es(alert('diabetes', 'Diabetes (type 3c)'))).toBe('Diabetes (type 3c)')
  })
  it('speaks English too', () => {
    g.locale.value = 'en'
    expect(alertText(alert('allergy_severe', 'Severe allergy: Penicilina'), g.t, (k) => g.te(k))).toBe('Severe allergy: Penicilina')
    g.locale.value = 'es'
  })
})

describe('small formatters', () => {
  it('groups Spanish phone numbers and leaves others alone', () => {
    expect(formatPhone('+34629114289')).toBe('+34 629 11 42 89')
    expect(formatPhone('912345678')).toBe('91 234 56 78')
    expect(formatPhone('+44 20 7946 0958')).toBe('+44 20 7946 0958')
    expect(formatPhone(null)).toBe('')
  })
  it('capitalises only the first letter and takes initials', () => {
    expect(capitalize('miércoles, 25 de noviembre de 2026')).toBe('Miércoles, 25 de noviembre de 2026')
    expect(initials('íñigo etxeberria zubizarreta')).toBe('ÍE')
  })
})

describe('messages', () => {
  it('every message of both languages compiles and renders', () => {
    const walk = (o: Record<string, unknown>, prefix = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' && v ? walk(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]))
    const errors: unknown[] = []
    const warn = console.warn
    console.warn = (...a: unknown[]) => void errors.push(a)
    try {
      for (const locale of ['es', 'en'] as const) {
        g.locale.value = locale
        for (const key of walk(g.getLocaleMessage(locale) as Record<string, unknown>)) {
          const out = g.t(key, { n: 1, name: 'x', q: 'x', role: 'x', date: 'x', message: 'x', substance: 'x', type: 'x', day: 'x', resource: 'x', start: 'x', end: 'x', patient: 'x', tooth: 11 })
          expect(out, `${locale}:${key}`).not.toBe(key)
        }
      }
    } finally {
      console.warn = warn
      g.locale.value = 'es'
    }
    expect(errors).toEqual([])
  })
})
