import { afterEach, describe, expect, it } from 'vitest'
import { createApp, defineComponent, nextTick } from 'vue'
import PrimeVue, { usePrimeVue } from 'primevue/config'
import { i18n, setLocale } from './index'
import { usePrimeVueLocale } from './primevue'

function mountProbe() {
  let config: ReturnType<typeof usePrimeVue>['config'] | undefined
  const Probe = defineComponent({
    setup() {
      usePrimeVueLocale()
      config = usePrimeVue().config
      return () => null
    },
  })
  const app = createApp(Probe).use(i18n).use(PrimeVue)
  app.mount(document.createElement('div'))
  return { app, locale: () => config!.locale! }
}

describe("PrimeVue's own strings follow the app's language", () => {
  afterEach(() => setLocale('es'))

  it('are Spanish in Spanish, English after switching, weeks from Monday in both', async () => {
    setLocale('es')
    const { app, locale } = mountProbe()
    expect(locale().monthNames?.[0]).toBe('Enero')
    expect(locale().accept).toBe('Sí')
    expect(locale().firstDayOfWeek).toBe(1)
    setLocale('en')
    await nextTick()
    expect(locale().monthNames?.[0]).toBe('January')
    expect(locale().accept).toBe('Yes')
    expect(locale().firstDayOfWeek).toBe(1)
    app.unmount()
  })
})
