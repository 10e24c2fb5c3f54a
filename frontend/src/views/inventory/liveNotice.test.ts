import { describe, expect, it } from 'vitest'
import { noticeFor, type NoticeContext } from '@/live/notices'
import type { LiveEvent } from '@/live/client'

const ev = (data: Record<string, unknown>): LiveEvent => ({ type: 'inventory.stock_low', event_id: 'e1', occurred_at: '2026-01-01T10:00:00Z', data }) as LiveEvent
const ctx = (perms: string[], own: string[] = []): NoticeContext => ({
  can: (p) => perms.includes(p),
  own: (id) => !!id && own.includes(id),
  announced: () => false,
  userId: 'u1',
})

describe('the low-stock toast', () => {
  it('goes to staff who read the inventory, with a link to the item', () => {
    const n = noticeFor(ev({ item_id: 'I1', count: 2 }), ctx(['inventory.read']))
    expect(n?.severity).toBe('warn')
    expect(n?.summary).toBe('inventory.live.low')
    expect(n?.link?.to).toBe('/inventory/items/I1')
  })
  it('is not shown without inventory.read, nor to the tab that caused it', () => {
    expect(noticeFor(ev({ item_id: 'I1' }), ctx([]))).toBeNull()
    expect(noticeFor(ev({ item_id: 'I1' }), ctx(['inventory.read'], ['I1']))).toBeNull()
  })
})
