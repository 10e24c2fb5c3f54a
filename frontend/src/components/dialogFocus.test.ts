import { afterEach, describe, expect, it, vi } from 'vitest'
import Dialog from 'primevue/dialog'
import { keepFocusInsideOpeningDialogs } from './dialogFocus'

afterEach(() => {
  document.body.innerHTML = ''
})

/** A dialog with two fields and a button behind it; `focused` has the focus when PrimeVue's
 * focus step runs. Returns PrimeVue's own step (a spy) and whether it ran. */
function openingDialog(focused: 'second' | 'behind') {
  const container = document.createElement('div')
  container.innerHTML = '<input id="first" autofocus><input id="second"><button id="close">x</button>'
  document.body.append(container, Object.assign(document.createElement('button'), { id: 'behind' }))
  const original = vi.fn()
  const component = { methods: { focus: original } }
  keepFocusInsideOpeningDialogs(component)
  document.getElementById(focused)!.focus()
  component.methods.focus.call({ container })
  return original
}

describe('the dialog focus at the end of its opening transition', () => {
  it('stays on the field the person tabbed to during the transition', () => {
    const original = openingDialog('second')
    expect(original).not.toHaveBeenCalled()
    expect(document.activeElement?.id).toBe('second')
  })

  it('is still put on the first field when it is outside the dialog', () => {
    const original = openingDialog('behind')
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
