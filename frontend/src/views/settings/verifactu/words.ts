// VERI*FACTU answers in words the clinic's staff understand (pure; unit-tested). The API
// sends stable codes with their values as params, and a message in the caller's language: an
// unknown code, or one without the params its words need, shows that message, never a code.
import { ApiError } from '@/api/http'
import type { ChainBreakOut, DifferenceOut, VfAlert } from '@/api/verifactu'

type T = (key: string, params?: Record<string, unknown>, plural?: number) => string
type Has = (key: string) => boolean

export type Level = 'error' | 'warn' | 'info'

const LEVEL: Record<string, Level> = {
  CERTIFICATE_MISSING: 'error',
  CERTIFICATE_EXPIRED: 'error',
  SUBMISSION_FAILED: 'error',
  SERIES_BLOCKED: 'error',
  CERTIFICATE_EXPIRES_SOON: 'warn',
  SUBMISSION_INCIDENT: 'warn',
  SUBMISSION_NOT_CONFIGURED: 'info',
}

export const alertLevel = (a: VfAlert): Level => LEVEL[a.code] ?? 'warn'

/** The values an alert's words need, from the params the API sends with it; null when one is
 *  missing (then the API's own message, already in the caller's language, is shown). */
function alertParams(a: VfAlert): Record<string, string> | null {
  const p = a.params ?? {}
  const need = (...names: string[]) => names.every((n) => p[n] !== undefined && p[n] !== null)
  const s = (v: unknown) => String(v ?? '')
  switch (a.code) {
    case 'CERTIFICATE_EXPIRES_SOON':
      return need('days_left', 'not_after') ? { n: s(p.days_left), date: s(p.not_after) } : null
    case 'SUBMISSION_FAILED':
      return need('nif') ? { nif: s(p.nif), error: s(p.error) } : null
    case 'SUBMISSION_INCIDENT':
      return need('nif', 'pending') ? { error: s(p.error), n: s(p.pending), nif: s(p.nif) } : null
    case 'SERIES_BLOCKED':
      return need('series', 'count') ? { series: s(p.series), n: s(p.count) } : null
    default:
      return {}
  }
}

/** An alert in the user's language; `date` formats an ISO date for the reader. */
export function alertText(a: VfAlert, t: T, has: Has, date: (iso: string) => string = (s) => s): string {
  const key = `verifactu.alerts.${a.code}`
  const params = alertParams(a)
  if (!has(key) || params === null) return a.message
  if (params.date) params.date = date(params.date)
  return params.n ? t(key, params, Number(params.n)) : t(key, params)
}

const AEAT_STATE: Record<string, string> = { Correcto: 'correct', AceptadoConErrores: 'accepted_with_errors', Anulado: 'annulled' }

/** A record's state, ours (`correct`, `rejected`...) or the AEAT's (`Correcto`, `Anulado`...), in words. */
export function stateText(state: string | null | undefined, t: T, has: Has): string {
  if (!state) return t('verifactu.states.none')
  const k = `verifactu.states.${AEAT_STATE[state] ?? state}`
  return has(k) ? t(k) : state
}

/** One difference found by the daily reconciliation with the AEAT, in words. */
export function differenceText(d: DifferenceOut, t: T, has: Has): string {
  const key = `verifactu.diff.${d.code}`
  if (!has(key)) return d.code
  return t(key, { ours: stateText(d.ours, t, has), aeat: stateText(d.aeat, t, has) })
}

/** The first break of a chain, in words: where it is (its invoice, when the API names it) and
 *  what is wrong. */
export function breakText(b: ChainBreakOut, t: T, has: Has): { where: string; problem: string } {
  const invoice = b.num_serie
  const where = b.record === null
    ? t('verifactu.verify.whereHead', { position: b.position })
    : invoice
      ? t('verifactu.verify.whereInvoice', { invoice, position: b.position })
      : t('verifactu.verify.whereRecord', { record: b.record, position: b.position })
  const key = `verifactu.problems.${b.problem}`
  return { where, problem: has(key) ? t(key) : t('verifactu.problems.other', { problem: b.problem }) }
}

export { apiMessage } from '@/api/http'

/** An AEAT date ("02-12-2026", dd-mm-yyyy) as ISO ("2026-12-02"); null when it is not one. */
export function aeatDate(fecha: string): string | null {
  const m = /^(\d{2})-(\d{2})-(\d{4})$/.exec(fecha)
  return m ? `${m[3]}-${m[2]}-${m[1]}` : null
}
