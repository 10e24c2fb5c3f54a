import { describe, expect, it } from 'vitest'
import { email, hexColour, maxLength, minLength, pastDate, phone, required, serverErrors, spanishId, validate } from './validation'
import { ApiError } from '@/api/http'

describe('rules', () => {
  it('required', () => {
    expect(required('', {})?.key).toBe('validation.required')
    expect(required('  ', {})?.key).toBe('validation.required')
    expect(required(null, {})).not.toBeNull()
    expect(required('x', {})).toBeNull()
  })
  it('lengths', () => {
    expect(minLength(2)('a', {})?.params).toEqual({ n: 2 })
    expect(minLength(2)('', {})).toBeNull() // empty is required()'s job
    expect(maxLength(3)('abcd', {})).not.toBeNull()
  })
  it('email and phone', () => {
    expect(email('ana@clinica.es', {})).toBeNull()
    expect(email('ana@clinica', {})).not.toBeNull()
    expect(phone('+34 600 111 222', {})).toBeNull()
    expect(phone('12ab', {})).not.toBeNull()
  })
  it('Spanish DNI and NIE control letters', () => {
    expect(spanishId('12345678Z', {})).toBeNull()
    expect(spanishId('12345678-z', {})).toBeNull()
    expect(spanishId('12345678A', {})?.key).toBe('validation.nationalIdLetter')
    expect(spanishId('X1234567L', {})).toBeNull()
    expect(spanishId('1234', {})?.key).toBe('validation.nationalId')
  })
  it('dates in the past and hex colours', () => {
    expect(pastDate('2000-01-01', {})).toBeNull()
    expect(pastDate('2999-01-01', {})?.key).toBe('validation.pastDate')
    expect(pastDate('nope', {})?.key).toBe('validation.date')
    expect(hexColour('#0f766e', {})).toBeNull()
    expect(hexColour('teal', {})).not.toBeNull()
  })
})

describe('validate a form', () => {
  it('reports the first failing rule of each field', () => {
    const errors = validate({ first_name: [required], email: [email], phone: [phone] }, { first_name: '', email: 'bad', phone: '' })
    expect(Object.keys(errors)).toEqual(['first_name', 'email'])
  })
  it('maps API field errors (422) onto fields', () => {
    const e = new ApiError(422, 'VALIDATION_FAILED', 'Invalid', [{ field: 'body.date_of_birth', message: 'cannot be in the future' }, { field: 'national_id.number', message: 'bad DNI' }])
    expect(serverErrors(e)).toEqual({
      date_of_birth: { key: 'validation.server', params: { message: 'cannot be in the future' } },
      'national_id.number': { key: 'validation.server', params: { message: 'bad DNI' } },
    })
  })
})
