import { describe, expect, it } from 'vitest'
import { candidatesFirst, dicomDate, dicomName } from './hints'

describe('what the file says about the patient', () => {
  it('DICOM person names as people write them', () => {
    expect(dicomName('GARCIA LOPEZ^ANA')).toBe('Ana Garcia Lopez')
    expect(dicomName('Martín^Lucía^^Dra')).toBe('Lucía Martín')
    expect(dicomName('O\'NEILL^MARY-JANE')).toBe("Mary-Jane O'Neill")
    expect(dicomName('SMITH')).toBe('Smith')
    expect(dicomName('^^')).toBeNull()
    expect(dicomName(null)).toBeNull()
  })

  it('DICOM dates as ISO dates', () => {
    expect(dicomDate('19800102')).toBe('1980-01-02')
    expect(dicomDate('1980-01-02')).toBe('1980-01-02')
    expect(dicomDate('19801302')).toBeNull()
    expect(dicomDate('unknown')).toBeNull()
    expect(dicomDate('')).toBeNull()
  })

  it('candidates first, each patient once', () => {
    const p = (id: string) => ({ patient_id: id })
    expect(candidatesFirst([p('B'), p('A')], [p('A'), p('C')]).map((x) => x.patient_id)).toEqual(['B', 'A', 'C'])
  })
})
