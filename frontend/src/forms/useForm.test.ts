import { describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { mount } from '@vue/test-utils'
import { i18n } from '@/i18n'
import { ApiError } from '@/api/http'
import { useForm } from './useForm'
import { email, required } from './validation'

function form() {
  let f!: ReturnType<typeof useForm<{ name: string; email: string }>>
  mount(defineComponent({ setup: () => { f = useForm({ name: '', email: '' }, { name: [required], email: [required, email] }); return () => h('div') } }), { global: { plugins: [i18n] } })
  return f
}

describe('useForm', () => {
  it('checks a field on blur, then as the user types, not before', () => {
    i18n.global.locale.value = 'es'
    const f = form()
    f.values.email = 'ana@'
    f.input('email')
    expect(f.error('email')).toBe('') // not touched yet: no nagging while typing
    f.blur('email')
    expect(f.error('email')).toContain('Escribe un correo válido')
    f.values.email = 'ana@clinica.es'
    f.input('email')
    expect(f.error('email')).toBe('')
  })

  it('leaving an empty field never typed in says nothing until the submit', () => {
    i18n.global.locale.value = 'es'
    const f = form()
    f.blur('name')
    expect(f.error('name')).toBe('')
    f.values.name = 'A'
    f.input('name')
    f.values.name = ''
    f.input('name')
    f.blur('name') // typed in, then emptied: now it is worth saying
    expect(f.error('name')).toBe('Este campo es obligatorio')
  })

  it('submit validates everything and does not call the API when invalid', async () => {
    const f = form()
    let called = false
    expect(await f.submit(async () => void (called = true))).toBe(false)
    expect(called).toBe(false)
    expect(f.error('name')).toBe('Este campo es obligatorio')
  })

  it("puts the API's field errors on their fields and its message above the form", async () => {
    const f = form()
    f.values.name = 'Ana'
    f.values.email = 'ana@clinica.es'
    const ok = await f.submit(async () => {
      throw new ApiError(422, 'VALIDATION_FAILED', 'Check the highlighted fields', [{ field: 'body.email', message: 'is already used by another patient' }])
    })
    expect(ok).toBe(false)
    expect(f.error('email')).toBe('is already used by another patient')
    expect(f.formError.value).toBe('Check the highlighted fields')
    expect(f.submitting.value).toBe(false)
  })
})
