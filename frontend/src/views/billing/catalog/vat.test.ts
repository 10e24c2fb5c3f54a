import { describe, expect, it } from 'vitest'
import { categories, filterTreatments, vatLabel } from './vat'
import { money, parseAmount, rateText, type Treatment, type VatType } from '@/api/catalog'

const t = (k: string, p?: Record<string, unknown>) => `${k}${p ? JSON.stringify(p) : ''}`
const vat = (over: Partial<VatType>): VatType => ({ code: 'X', name_es: 'Equis', name_en: 'Ex', rate: '0.00', classification: 'E1', exempt: true, active: true, ...over })
const trt = (over: Partial<Treatment>): Treatment => ({
  treatment_id: over.code ?? 'id', code: 'C', name_es: 'Nombre', name_en: null, category: [], price: '1.00', cost: null,
  duration_min: null, scope: 'mouth', vat_code: 'EXENTO_SANITARIO', active: true, updated_at: '', ...over,
})

describe('VAT types in words', () => {
  it('says the rate of a taxed type in the locale and names the healthcare exemption', () => {
    expect(vatLabel(vat({ code: 'IVA21', rate: '21.00', classification: 'S1' }), 'IVA21', t, 'es')).toBe('catalog.vat.taxed{"rate":"21"}')
    expect(vatLabel(vat({ code: 'IVA', rate: '10.50', classification: 'S1' }), 'IVA', t, 'es')).toBe('catalog.vat.taxed{"rate":"10,5"}')
    expect(vatLabel(vat({ code: 'EXENTO_SANITARIO' }), 'EXENTO_SANITARIO', t, 'en')).toBe('catalog.vat.healthcare')
    expect(vatLabel(vat({ code: 'NS', classification: 'N1' }), 'NS', t, 'en')).toBe('Ex')
    expect(vatLabel(undefined, 'GONE', t, 'es')).toBe('GONE')
  })
})

describe('catalog filter', () => {
  const items = [
    trt({ code: 'OBT1', name_es: 'Empaste de composite', category: ['Conservadora', 'Obturaciones'] }),
    trt({ code: 'BLAN', name_es: 'Blanqueamiento', name_en: 'Whitening', category: ['Estética'], active: false }),
    trt({ code: 'CORZR', name_es: 'Corona de zirconio', category: ['Prótesis', 'Coronas'] }),
  ]
  it('searches code, names and category without accents or case, every word', () => {
    expect(filterTreatments(items, { q: 'protesis corona', status: 'all', category: null }).map((x) => x.code)).toEqual(['CORZR'])
    expect(filterTreatments(items, { q: 'WHITEN', status: 'all', category: null }).map((x) => x.code)).toEqual(['BLAN'])
    expect(filterTreatments(items, { q: 'obt1', status: 'all', category: null }).map((x) => x.code)).toEqual(['OBT1'])
  })
  it('filters by status and top-level category', () => {
    expect(filterTreatments(items, { q: '', status: 'active', category: null }).map((x) => x.code)).toEqual(['CORZR', 'OBT1'])
    expect(filterTreatments(items, { q: '', status: 'inactive', category: null }).map((x) => x.code)).toEqual(['BLAN'])
    expect(filterTreatments(items, { q: '', status: 'all', category: 'Prótesis' }).map((x) => x.code)).toEqual(['CORZR'])
    expect(categories(items)).toEqual(['Conservadora', 'Estética', 'Prótesis'])
  })
})

describe('amounts', () => {
  it('reads what a person types, with a decimal comma or point', () => {
    expect(parseAmount('45,5')).toBe('45.5')
    expect(parseAmount('1.234,50 €')).toBe('1234.50')
    expect(parseAmount('45.50')).toBe('45.50')
    expect(parseAmount('4,555')).toBeNull()
    expect(parseAmount('-3')).toBeNull()
    expect(parseAmount('abc')).toBeNull()
  })
  it('formats euros in the locale', () => {
    expect(money('1234.50', 'es')).toMatch(/1234,50\s€|1\.234,50\s€/)
    expect(money('1234.50', 'en')).toBe('€1,234.50')
    expect(rateText('4.00', 'es')).toBe('4')
  })
})
