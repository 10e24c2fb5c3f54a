import { describe, expect, it } from 'vitest'
import es from '@/i18n/es'
import en from '@/i18n/en'

const keys = (o: object, p = ''): string[] =>
  Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as object, `${p}${k}.`) : [`${p}${k}`]))

describe('inventory strings', () => {
  it('have the same keys in Spanish and English', () => {
    expect(keys((en as { inventory: object }).inventory).sort()).toEqual(keys(es.inventory).sort())
  })
})
