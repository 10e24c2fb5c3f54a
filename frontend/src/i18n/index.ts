import { createI18n } from 'vue-i18n'
import es from './es'
import en from './en'

export type Locale = 'es' | 'en'
const saved = (typeof localStorage !== 'undefined' && localStorage.getItem('cuspide.lang')) as Locale | null

export const i18n = createI18n({
  legacy: false,
  locale: saved ?? 'es',
  fallbackLocale: 'es',
  messages: { es, en },
  datetimeFormats: {
    es: {
      short: { day: 'numeric', month: 'short', year: 'numeric' },
      long: { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' },
      time: { hour: '2-digit', minute: '2-digit' },
      dayHeader: { weekday: 'short', day: 'numeric', month: 'short' },
    },
    en: {
      short: { day: 'numeric', month: 'short', year: 'numeric' },
      long: { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' },
      time: { hour: '2-digit', minute: '2-digit' },
      dayHeader: { weekday: 'short', day: 'numeric', month: 'short' },
    },
  },
})

export function setLocale(l: Locale) {
  i18n.global.locale.value = l
  localStorage.setItem('cuspide.lang', l)
  document.documentElement.lang = l
}
