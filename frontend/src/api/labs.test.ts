import { describe, expect, it } from 'vitest'
import { canSend, concernsLabs, dashboardOrder, fileType, parseTeeth, staffMoves, type LabCase } from './labs'

describe('lab cases helpers', () => {
  it('parses FDI teeth and refuses the rest', () => {
    expect(parseTeeth('36, 11 36')).toEqual([11, 36])
    expect(parseTeeth('')).toEqual([])
    expect(parseTeeth('19')).toBeNull()
    expect(parseTeeth('55 85')).toEqual([55, 85])
    expect(parseTeeth('56')).toBeNull()
  })
  it('offers only the clinic moves of the status machine', () => {
    expect(staffMoves('received')).toEqual(['fitted', 'returned_for_remake'])
    expect(staffMoves('draft')).toEqual([])
    expect(staffMoves('fitted')).toEqual([])
    expect(canSend('draft') && canSend('returned_for_remake') && !canSend('shipped')).toBe(true)
  })
  it('puts alerts first, then the earliest due', () => {
    const c = (id: string, due: string, alerts: LabCase['alerts'] = []) => ({ case_id: id, due_date: due, alerts }) as LabCase
    expect(dashboardOrder([c('a', '2030-01-01'), c('b', '2031-01-01', ['overdue']), c('c', '2029-01-01')]).map((x) => x.case_id)).toEqual(['b', 'c', 'a'])
  })
  it('knows which live events concern lab cases', () => {
    expect(concernsLabs({ type: 'lab.case_status_changed', data: { patient_id: 'p' } }, 'p')).toBe(true)
    expect(concernsLabs({ type: 'lab.case_status_changed', data: { patient_id: 'q' } }, 'p')).toBe(false)
    expect(concernsLabs({ type: 'image.processed', data: {} })).toBe(false)
  })
  it('maps file names to the types the API accepts', () => {
    expect(fileType('Corona.STL')).toBe('model/stl')
    expect(fileType('scan.zip')).toBe('application/zip')
    expect(fileType('virus.exe')).toBeNull()
  })
})
