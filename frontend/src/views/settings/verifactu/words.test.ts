import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import es from '@/i18n/es'
import en from '@/i18n/en'
import { ApiError } from '@/api/http'
import { aeatDate, alertLevel, alertText, apiMessage, breakText, differenceText, stateText } from './words'

function lang(locale: 'es' | 'en') {
  const i18n = createI18n({ legacy: false, locale, messages: { es, en } })
  const g = i18n.global
  const t = (k: string, p?: Record<string, unknown>, n?: number) => (n === undefined ? g.t(k, p ?? {}) : g.t(k, p ?? {}, n))
  return { t, te: (k: string) => g.te(k) }
}

// The alerts as chalicelib/verifactu/settings.py sends them (message in the caller's language).
const ALERTS = {
  notConfigured: { code: 'SUBMISSION_NOT_CONFIGURED', message: 'This stack has no AEAT endpoint (local development).', params: {} },
  expiring: { code: 'CERTIFICATE_EXPIRES_SOON', message: 'The AEAT certificate expires in 12 day(s) (2026-12-14): renew it.', params: { days_left: 12, not_after: '2026-12-14' } },
  failed: { code: 'SUBMISSION_FAILED', message: 'Sending the records of B12345674 stopped: 4102', params: { nif: 'B12345674', error: '4102: El XML no cumple el esquema' } },
  incident: { code: 'SUBMISSION_INCIDENT', message: 'The AEAT cannot be reached (timeout).', params: { nif: 'B12345674', pending: 3, error: 'timeout' } },
  blocked: { code: 'SERIES_BLOCKED', message: 'Series F is blocked: 2 record(s) rejected by the AEAT need a subsanación.', params: { series: 'F', count: 2 } },
}

describe('alerts in words', () => {
  it('say in Spanish what each alert means, with its NIF, series and counts', () => {
    const { t, te } = lang('es')
    const fmt = (iso: string) => iso.split('-').reverse().join('/')
    expect(alertText(ALERTS.notConfigured, t, te)).toMatch(/no está conectado con la AEAT/)
    expect(alertText(ALERTS.expiring, t, te, fmt)).toBe('El certificado electrónico caduca en 12 días (14/12/2026): renuévalo antes para no interrumpir los envíos.')
    expect(alertText(ALERTS.failed, t, te)).toContain('B12345674 está detenido')
    expect(alertText(ALERTS.failed, t, te)).toContain('El XML no cumple el esquema')
    expect(alertText(ALERTS.incident, t, te)).toContain('(timeout): quedan 3 registros de B12345674')
    expect(alertText(ALERTS.blocked, t, te)).toContain('La serie F está bloqueada')
    // One of a kind reads in the singular.
    expect(alertText({ ...ALERTS.expiring, params: { days_left: 1, not_after: '2026-12-03' } }, t, te, fmt)).toContain('caduca en 1 día (03/12/2026)')
    expect(alertText({ ...ALERTS.blocked, params: { series: 'F', count: 1 } }, t, te)).toContain('rechazó 1 registro que hay')
  })

  it('and in English', () => {
    const { t, te } = lang('en')
    expect(alertText(ALERTS.blocked, t, te)).toBe('Series F is blocked: the AEAT rejected 2 records that must be corrected before more invoices of that series are issued.')
  })

  it("an unknown code, or one without the params its words need, shows the API's message", () => {
    const { t, te } = lang('es')
    expect(alertText({ code: 'SOMETHING_NEW', message: 'Algo nuevo.' }, t, te)).toBe('Algo nuevo.')
    expect(alertText({ code: 'SERIES_BLOCKED', message: 'La serie F está bloqueada.', params: {} }, t, te)).toBe('La serie F está bloqueada.')
  })

  it('levels: what stops sending is an error, what may stop it a warning', () => {
    expect(alertLevel(ALERTS.failed)).toBe('error')
    expect(alertLevel(ALERTS.expiring)).toBe('warn')
    expect(alertLevel(ALERTS.notConfigured)).toBe('info')
  })
})

describe('reconciliation differences in words', () => {
  it('name our state and the AEAT’s EstadoRegistro alike', () => {
    const { t, te } = lang('es')
    expect(differenceText({ code: 'state_differs', ours: 'correct', aeat: 'Anulado' }, t, te)).toBe('Estado distinto: aquí correcto, en la AEAT anulado.')
    expect(differenceText({ code: 'missing_at_aeat', ours: 'accepted_with_errors', aeat: null }, t, te)).toBe('No consta en la AEAT (aquí está aceptado con errores).')
    expect(differenceText({ code: 'held_but_rejected', ours: 'rejected', aeat: 'Correcto' }, t, te)).toContain('(correcto)')
    expect(differenceText({ code: 'huella_differs', ours: 'AB', aeat: 'CD' }, t, te)).not.toContain('AB')
    expect(stateText('AceptadoConErrores', lang('en').t, lang('en').te)).toBe('accepted with errors')
    expect(stateText('Raro', t, te)).toBe('Raro')
  })
})

describe('a chain break in words', () => {
  const brk = { record: 'B12345674-0000000005', num_serie: null, position: 5, problem: 'huella', field: 'Huella', expected: 'AA', found: 'BB' }
  it('names the invoice when known, else the record, and says what is wrong', () => {
    const { t, te } = lang('es')
    expect(breakText({ ...brk, num_serie: 'F-2026-000005' }, t, te)).toEqual({
      where: 'El registro de la factura F-2026-000005 (posición 5 de la cadena)',
      problem: 'Su huella no corresponde a su contenido: el registro se ha modificado después de generarse.',
    })
    expect(breakText(brk, t, te).where).toBe('El registro B12345674-0000000005 (posición 5 de la cadena)')
    expect(breakText({ ...brk, record: null, problem: 'head' }, t, te).where).toBe('El final de la cadena (tras la posición 5)')
    expect(breakText({ ...brk, problem: 'archive' }, lang('en').t, lang('en').te).problem).toMatch(/archived copy/)
    expect(breakText({ ...brk, problem: 'novel' }, t, te).problem).toContain('novel')
  })
})

describe('helpers', () => {
  it("a 422's field messages say more than its summary", () => {
    const e = new ApiError(422, 'VALIDATION_FAILED', 'Algunos parámetros de la consulta no son válidos.', [{ field: 'query', message: 'El periodo es demasiado largo: como mucho 366 días por petición (un año).' }])
    expect(apiMessage(e)).toBe('El periodo es demasiado largo: como mucho 366 días por petición (un año).')
    expect(apiMessage(new ApiError(404, 'VERIFACTU_NO_RECORDS', 'No hay registros.'))).toBe('No hay registros.')
  })

  it('AEAT dates', () => {
    expect(aeatDate('02-12-2026')).toBe('2026-12-02')
    expect(aeatDate('2026-12-02')).toBeNull()
  })
})
