import { describe, expect, it } from 'vitest'
import { bodyOf, draftFrom, emptyDraft, isEmpty, stateOf } from './notes'

describe('notes helpers', () => {
  it('sends only the fields of the kind, trimmed', () => {
    const d = { ...emptyDraft('soap'), title: ' ', subjective: ' dolor ', text: 'ignored' }
    expect(bodyOf(d)).toEqual({ kind: 'soap', title: null, subjective: 'dolor', objective: '', assessment: '', plan: '' })
    expect(bodyOf({ ...d, kind: 'free', text: ' libre ' })).toEqual({ kind: 'free', title: null, text: 'libre' })
  })
  it('knows an empty note', () => {
    expect(isEmpty(emptyDraft('soap'))).toBe(true)
    expect(isEmpty({ ...emptyDraft('soap'), plan: 'x' })).toBe(false)
    expect(isEmpty({ ...emptyDraft('free'), plan: 'x' })).toBe(true)
  })
  it('starts from a template', () => {
    const d = draftFrom({ kind: 'soap', title: 'Endo', subjective: 'S', objective: null })
    expect(d).toEqual({ kind: 'soap', title: 'Endo', subjective: 'S', objective: '', assessment: '', plan: '', text: '' })
  })
  it('names the state', () => {
    expect(stateOf({ status: 'draft', amendments: [] })).toBe('draft')
    expect(stateOf({ status: 'signed', amendments: [] })).toBe('signed')
    expect(stateOf({ status: 'signed', amendments: [{} as never] })).toBe('amended')
  })
})
