import { describe, expect, it } from 'vitest'
import es from '@/i18n/es'
import en from '@/i18n/en'
import { STATUSES, WORK_TYPES } from '@/api/labs'
import { statusSeverity } from './labsView'

const keys = (o: object, p = ''): string[] =>
  Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as object, `${p}${k}.`) : [`${p}${k}`]))

describe('lab screens', () => {
  it('have the same strings in Spanish and English, with words for every status and work type', () => {
    const esLabs = (es as unknown as { labs: Record<string, Record<string, string>> }).labs
    expect(keys((en as unknown as { labs: object }).labs).sort()).toEqual(keys(esLabs).sort())
    for (const s of STATUSES) expect(esLabs.status[s]).toBeTruthy()
    for (const w of WORK_TYPES) expect(esLabs.work[w]).toBeTruthy()
  })
  it('colours a remake as a problem and a fitted case as done', () => {
    expect(statusSeverity('returned_for_remake')).toBe('danger')
    expect(statusSeverity('fitted')).toBe('success')
  })
})
