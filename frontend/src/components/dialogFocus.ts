// PrimeVue's Dialog puts the focus on its [autofocus] element when its opening transition ends
// (Dialog.focus, called from onAfterEnter), even when the person has already moved on inside
// the dialog: someone who types a name and tabs to the next field during the transition is sent
// back to the first field, and their next Shift+Tab then reaches the close button. The field
// already has the focus before that moment (the browser's own autofocus), so the dialog only
// needs to move it when it is still outside.
import Dialog from 'primevue/dialog'

interface DialogInstance {
  container: HTMLElement | null
}
type DialogMethods = Record<string, (this: DialogInstance, ...args: unknown[]) => unknown>

export function keepFocusInsideOpeningDialogs(component: unknown = Dialog) {
  const methods = (component as { methods: DialogMethods }).methods
  const focus = methods.focus!
  if ((focus as { kept?: true }).kept) return
  const kept = function (this: DialogInstance, ...args: unknown[]) {
    const active = document.activeElement
    if (this.container && active && active !== this.container && this.container.contains(active)) return
    return focus.apply(this, args)
  }
  methods.focus = Object.assign(kept, { kept: true as const })
}
