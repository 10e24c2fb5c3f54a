// The UI library's own strings (date picker months and days, "No results", paginator, upload
// buttons, the confirm dialog's Yes/No…) follow the app's language: the translations come from
// primelocale, PrimeTek's maintained locale files. The clinic is in Spain: weeks start on Monday
// in both languages, and dates read day/month/year.
import { watch } from 'vue'
import { usePrimeVue } from 'primevue/config'
import { es } from 'primelocale/js/es.js'
import { en } from 'primelocale/js/en.js'
import { i18n, type Locale } from './index'

const LOCALES: Record<Locale, typeof es> = {
  es: { ...es, firstDayOfWeek: 1, dateFormat: 'dd/mm/yy' },
  en: { ...en, firstDayOfWeek: 1, dateFormat: 'dd/mm/yy' },
}

/** Call once from the root component: keeps PrimeVue's locale on the app's language. */
export function usePrimeVueLocale() {
  const primevue = usePrimeVue()
  watch(
    () => i18n.global.locale.value as Locale,
    (l) => Object.assign(primevue.config.locale!, LOCALES[l] ?? LOCALES.es),
    { immediate: true },
  )
}
