import { afterEach, describe, expect, it, vi } from 'vitest'
import Dialog from 'primevue/dialog'
import { keepFocusInsideOpeningDialogs } from './dialogFocus'

afterEach(() => {
  document.body.innerHTML = ''
})

function dialogWithFields() {
  const container = document.createElement('div')
  container.innerHTML = '<input id="first" autofocus><input id="second"><button id="close">x</button>'
  document.body.append(container, Object.assign(document.createElement('button'), { id: 'behind' }))
  return container
}

describe('the dialog focus at the end of its opening transition', () => {
  it('stays on the field the person tabbed to during the transition', () => {
    const original = vi.fn()
    const component = { methods: { focus: original } }
    keepFocusInsideOpeningDialogs(component)
    const container = dialogWithFields()
    document.getElementById('second')!.focus()
    component.methods.focus.call({ container })
    expect(original).not.toHaveBeenCalled()
    expect(document.activeElement?.id).toBe('second')
  })

  it('is still put on the first field when it is outside the dialog', () => {
    const original = vi.fn()
    const component = { methods: { focus: original } }
    keepFocusInsideOpeningDialogs(component)
    const container = dialogWithFields()
    document.getElementById('behind')!.focus()
    component.methods.focus.call({ container })
    expect(original).toHaveBeenCalledTimes(1)
  })

  it('wraps PrimeVue\'s own Dialog once, however many times it is set up', () => {
    keepFocusInsideOpeningDialogs()
    const wrapped = (Dialog as unknown as { methods: { focus: unknown } }).methods.focus
    keepFocusInsideOpeningDialogs()
    expect((Dialog as unknown as { methods: { focus: unknown } }).methods.focus).toBe(wrapped)
    expect((wrapped as { kept?: boolean }).kept).toBe(true)
  })
})
