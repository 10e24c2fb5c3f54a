import { reactive, ref, computed } from 'vue'
import { useI18n } from 'vue-i18n'
import { validate, validateField, serverErrors, type Errors, type Schema, type Msg } from './validation'
import { ApiError } from '@/api/http'

/** Form state with inline validation: a field is checked on blur, then on every change. */
export function useForm<T extends Record<string, unknown>>(initial: T, schema: Schema) {
  const { t } = useI18n()
  const values = reactive({ ...initial }) as T
  const errors = ref<Errors>({})
  const touched = reactive<Record<string, boolean>>({})
  const submitting = ref(false)
  const formError = ref<string | null>(null)

  const text = (m?: Msg) => (m ? (m.key === 'validation.server' ? String(m.params?.message) : t(m.key, m.params ?? {})) : '')
  const check = (f: string) => {
    const m = validateField(schema, f, values)
    const next = { ...errors.value }
    if (m) next[f] = m
    else delete next[f]
    errors.value = next
  }
  // Fields the user has typed in. Leaving an empty field never typed in says nothing yet (the
  // submit does): a "required" popping up under the first field when someone clicks a link or
  // tabs past it pushes the page down under their pointer.
  const edited = reactive<Record<string, boolean>>({})
  const blur = (f: string) => {
    const v = (values as Record<string, unknown>)[f]
    if (!edited[f] && (v === '' || v === null || v === undefined)) return
    touched[f] = true
    check(f)
  }
  const input = (f: string) => {
    edited[f] = true
    if (touched[f] || errors.value[f]) check(f)
  }
  const error = (f: string) => text(errors.value[f])
  const invalid = computed(() => Object.keys(errors.value).length > 0)

  async function submit(fn: (v: T) => Promise<void>, onError?: (e: unknown) => void): Promise<boolean> {
    formError.value = null
    errors.value = validate(schema, values)
    Object.keys(schema).forEach((f) => (touched[f] = true))
    if (invalid.value) return false
    submitting.value = true
    try {
      await fn(values)
      return true
    } catch (e) {
      const fe = serverErrors(e)
      const whole = fe.body
      delete fe.body
      errors.value = fe
      formError.value = whole ? String(whole.params?.message) : e instanceof ApiError ? e.message : String(e)
      if (onError) onError(e)
      return false
    } finally {
      submitting.value = false
    }
  }
  function reset(v: Partial<T> = initial) {
    Object.assign(values, { ...initial, ...v })
    errors.value = {}
    Object.keys(touched).forEach((k) => delete touched[k])
    Object.keys(edited).forEach((k) => delete edited[k])
    formError.value = null
  }
  return { values, errors, error, blur, input, submit, submitting, formError, invalid, reset }
}
