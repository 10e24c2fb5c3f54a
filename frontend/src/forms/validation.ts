// Inline form validation: small composable rules; messages are i18n keys with params.
import { ApiError } from '@/api/http'

export type Msg = { key: string; params?: Record<string, unknown> }
export type Rule = (value: unknown, all: Record<string, unknown>) => Msg | null

const empty = (v: unknown) => v === null || v === undefined || (typeof v === 'string' && v.trim() === '')

export const required: Rule = (v) => (empty(v) ? { key: 'validation.required' } : null)
export const minLength = (n: number): Rule => (v) =>
  !empty(v) && String(v).trim().length < n ? { key: 'validation.minLength', params: { n } } : null
export const maxLength = (n: number): Rule => (v) =>
  !empty(v) && String(v).length > n ? { key: 'validation.maxLength', params: { n } } : null
export const sameAs = (field: string): Rule => (v, all) =>
  !empty(v) && v !== all[field] ? { key: 'validation.sameAs' } : null
export const email: Rule = (v) =>
  !empty(v) && !/^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/.test(String(v).trim()) ? { key: 'validation.email' } : null
export const phone: Rule = (v) =>
  !empty(v) && !/^\+?[0-9 ()-]{6,20}$/.test(String(v).trim()) ? { key: 'validation.phone' } : null
export const hexColour: Rule = (v) => (!empty(v) && !/^#[0-9a-fA-F]{6}$/.test(String(v)) ? { key: 'validation.colour' } : null)
export const pastDate: Rule = (v) => {
  if (empty(v)) return null
  const d = new Date(String(v))
  if (Number.isNaN(d.getTime())) return { key: 'validation.date' }
  return d.getTime() > Date.now() ? { key: 'validation.pastDate' } : null
}

const NIF_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE'
/** Spanish DNI / NIE (control letter checked). Empty is valid (use `required` for that). */
export const spanishId: Rule = (v) => {
  if (empty(v)) return null
  const s = String(v).toUpperCase().replace(/[\s-]/g, '')
  const m = /^([XYZ]?)(\d{7,8})([A-Z])$/.exec(s)
  if (!m) return { key: 'validation.nationalId' }
  const prefix = { '': '', X: '0', Y: '1', Z: '2' }[m[1] as '' | 'X' | 'Y' | 'Z']
  const num = Number(prefix + m[2])
  return NIF_LETTERS[num % 23] === m[3] ? null : { key: 'validation.nationalIdLetter' }
}

export type Schema = Record<string, Rule[]>
export type Errors = Record<string, Msg>

export function validateField(schema: Schema, field: string, values: Record<string, unknown>): Msg | null {
  for (const rule of schema[field] ?? []) {
    const m = rule(values[field], values)
    if (m) return m
  }
  return null
}

export function validate(schema: Schema, values: Record<string, unknown>): Errors {
  const out: Errors = {}
  for (const f of Object.keys(schema)) {
    const m = validateField(schema, f, values)
    if (m) out[f] = m
  }
  return out
}

/** Server-side field errors (422) as form errors; the raw message is shown as is. */
export function serverErrors(e: unknown): Errors {
  if (!(e instanceof ApiError)) return {}
  const out: Errors = {}
  for (const fe of e.errors) {
    const f = fe.field.replace(/^body\./, '')
    if (!out[f]) out[f] = { key: 'validation.server', params: { message: fe.message } }
  }
  return out
}
