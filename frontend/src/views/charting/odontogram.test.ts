import { describe, expect, it } from 'vitest'
import type { Finding, PlanItem } from '@/api/charting'
import { move, parseTeeth, rowsFor, sideOf, toothStates } from './odontogram'

const f = (over: Partial<Finding>): Finding => ({
  finding_id: 'f', code: 'caries', kind: 'condition', tooth: 36, teeth: [], surfaces: ['O'], material: null, note: null,
  plan_item_id: null, supersedes: null, recorded_at: '', recorded_by: 'u', recorded_by_name: null, ended_at: null, end_reason: null, ...over,
})

describe('odontogram', () => {
  it('shows the rows of a dentition, the patient’s right first', () => {
    expect(rowsFor('permanent')[0]!.slice(0, 2)).toEqual([18, 17])
    expect(rowsFor('permanent')[1]!.slice(-1)).toEqual([38])
    expect(rowsFor('mixed')).toHaveLength(4)
    expect(rowsFor('deciduous')[0]).toHaveLength(10)
  })
  it('places surfaces: vestibular outwards, mesial towards the midline', () => {
    expect(sideOf(16, 'V')).toBe('top')
    expect(sideOf(36, 'V')).toBe('bottom')
    expect(sideOf(16, 'M')).toBe('right')
    expect(sideOf(26, 'M')).toBe('left')
    expect(sideOf(36, 'O')).toBe('center')
    expect(sideOf(36, 'R')).toBe('root')
  })
  it('moves with the arrow keys within and across rows', () => {
    const rows = rowsFor('permanent')
    expect(move(rows, 11, 'ArrowRight')).toBe(21)
    expect(move(rows, 18, 'ArrowLeft')).toBe(18)
    expect(move(rows, 16, 'ArrowDown')).toBe(46)
    expect(move(rows, 46, 'ArrowUp')).toBe(16)
    const mixed = rowsFor('mixed')
    expect(move(mixed, 18, 'ArrowDown')).toBe(55)
    expect(move(mixed, 11, 'End')).toBe(28)
  })
  it('draws conditions over existing work, planned items and spans', () => {
    const plan = [{ status: 'planned', teeth: [36], surfaces: ['D'], treatment_code: 'OBT' } as unknown as PlanItem]
    const states = toothStates([f({}), f({ code: 'filling', kind: 'existing', surfaces: ['O', 'M'] }), f({ code: 'bridge', kind: 'existing', tooth: null, teeth: [44, 45, 46], surfaces: [] })], plan)
    const t36 = states.get(36)!
    expect(t36.surfaces).toEqual({ O: 'condition', M: 'existing', D: 'planned' })
    expect(states.get(45)!.whole).toBe('existing')
    expect(t36.labels.map((l) => l.text)).toEqual(['C', 'O', 'OBT'])
  })
  it('reads teeth lists and ranges', () => {
    expect(parseTeeth('14, 15 16')).toEqual([14, 15, 16])
    expect(parseTeeth('14-16')).toEqual([14, 15, 16])
    expect(parseTeeth('x, 9')).toEqual([])
  })
})
