import { describe, expect, it } from 'vitest'
import { can, compressGrants, expandGrants, matches, nodeState, toggle, visible } from './permissions'
import { NAV } from '@/layouts/nav'
import type { PermissionNode } from '@/api/types'

const TREE: PermissionNode[] = [
  {
    key: 'patients.*', label: 'Patients', children: [
      { key: 'patients.read', label: 'r' },
      { key: 'patients.write', label: 'w' },
      { key: 'patients.medical.*', label: 'Medical', children: [{ key: 'patients.medical.read', label: 'mr' }, { key: 'patients.medical.write', label: 'mw' }] },
    ],
  },
  { key: 'audit.*', label: 'Audit', children: [{ key: 'audit.read', label: 'a' }] },
]

describe('matching and gating', () => {
  it('matches exact keys and wildcards', () => {
    expect(matches('*', 'billing.invoices.issue')).toBe(true)
    expect(matches('patients.*', 'patients.medical.read')).toBe(true)
    expect(matches('patients.*', 'patientsx.read')).toBe(false)
    expect(matches('patients.read', 'patients.write')).toBe(false)
  })
  it('can() with one key, any of several, or none required', () => {
    expect(can(['patients.read'], 'patients.read')).toBe(true)
    expect(can(['patients.read'], 'patients.medical.read')).toBe(false)
    expect(can(['audit.read'], ['settings.staff.read', 'audit.read'])).toBe(true)
    expect(can([], undefined)).toBe(true)
  })
  it('a receptionist sees no settings roles/audit, a dentist no settings at all beyond reading', () => {
    const reception = ['patients.read', 'patients.write', 'agenda.appointments.read', 'settings.clinic.read', 'settings.staff.read']
    expect(visible(reception, NAV).map((n) => n.name)).toEqual(['dashboard', 'agenda', 'patients', 'settings'])
    expect(visible(['patients.read'], NAV).map((n) => n.name)).toEqual(['dashboard', 'patients'])
    expect(visible([], NAV).map((n) => n.name)).toEqual(['dashboard'])
  })
})

describe('permission tree', () => {
  it('expands wildcard grants to leaves', () => {
    expect([...expandGrants(['patients.*'], TREE)].sort()).toEqual(['patients.medical.read', 'patients.medical.write', 'patients.read', 'patients.write'])
    expect(expandGrants(['*'], TREE).size).toBe(5)
  })
  it('computes checked / partial / unchecked', () => {
    const sel = new Set(['patients.read', 'patients.medical.read'])
    expect(nodeState(TREE[0]!, sel)).toBe('partial')
    expect(nodeState(TREE[0]!.children![2]!, sel)).toBe('partial')
    expect(nodeState(TREE[1]!, sel)).toBe('unchecked')
    expect(nodeState(TREE[0]!.children![0]!, sel)).toBe('checked')
  })
  it('toggling a partial group clears it; an unchecked one fills it', () => {
    const sel = new Set(['patients.read'])
    expect(toggle(TREE[0]!, sel).size).toBe(0)
    expect(toggle(TREE[1]!, sel).has('audit.read')).toBe(true)
    expect(toggle(TREE[0]!, new Set()).size).toBe(4)
  })
  it('compresses leaves back to the shortest grants', () => {
    expect(compressGrants(new Set(['patients.read', 'patients.medical.read', 'patients.medical.write']), TREE)).toEqual(['patients.read', 'patients.medical.*'])
    expect(compressGrants(expandGrants(['*'], TREE), TREE)).toEqual(['*'])
    expect(compressGrants(new Set(['audit.read']), TREE)).toEqual(['audit.*'])
    expect(compressGrants(new Set(), TREE)).toEqual([])
  })
})
