// VAT types in words a person understands ("IVA 21 %", "Exento – asistencia sanitaria"), and
// the catalog's filtering (pure; unit-tested).
import type { Treatment, VatType } from '@/api/catalog'
import { rateText } from '@/api/catalog'

type T = (key: string, params?: Record<string, unknown>) => string

export function vatLabel(v: VatType | undefined, code: string, t: T, locale: string): string {
  if (!v) return code
  if (v.classification === 'S1') return t('catalog.vat.taxed', { rate: rateText(v.rate, locale) })
  if (v.code === 'EXENTO_SANITARIO') return t('catalog.vat.healthcare')
  const own = locale.startsWith('es') ? v.name_es : v.name_en
  // A clinic's own exempt / not-subject type: its name, which says what it is for.
  return own || t(`catalog.vat.${v.classification}`)
}

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase()

export interface Filter { q: string; status: 'active' | 'inactive' | 'all'; category: string | null }

/** The treatments that match the search (accent- and case-insensitive, every word), status and category. */
export function filterTreatments(items: Treatment[], f: Filter): Treatment[] {
  const words = fold(f.q).split(/\s+/).filter(Boolean)
  return items
    .filter((x) => (f.status === 'all' ? true : f.status === 'active' ? x.active : !x.active))
    .filter((x) => !f.category || x.category[0] === f.category)
    .filter((x) => {
      if (!words.length) return true
      const hay = fold([x.code, x.name_es, x.name_en ?? '', x.category.join(' ')].join(' '))
      return words.every((w) => hay.includes(w))
    })
    .sort((a, b) => a.code.localeCompare(b.code))
}

/** Top-level categories, for the filter. */
export function categories(items: Treatment[]): string[] {
  return [...new Set(items.map((x) => x.category[0]).filter((c): c is string => !!c))].sort((a, b) => a.localeCompare(b))
}
