// The clinic's inventory (chalicelib/inventory): items, their stock movements (receive, consume,
// adjust) and history, and the lots expiring soon. `inventory.read` / `inventory.write`.
import { api } from './http'
import type { Page } from './types'

export type MovementKind = 'receive' | 'consume' | 'adjust'

export interface Lot {
  lot_id: string; item_id: string; lot: string | null; expiry: string | null; supplier: string | null
  received: number; remaining: number; received_at: string
}
export interface ExpiringLot extends Lot { item_name: string; sku: string; unit: string }
export interface InventoryItem {
  item_id: string; name: string; sku: string; unit: string; category: string | null; supplier: string | null
  lab: string | null; reorder_threshold: number; reorder_quantity: number; cost: string | null
  stock: number; low: boolean; archived: boolean; updated_at: string; version: number; lots: Lot[] | null
}
export interface ItemIn {
  name: string; sku: string; unit: string; category: string | null; supplier: string | null; lab: string | null
  reorder_threshold: number; reorder_quantity: number; cost: string | null
}
export type ItemUpdate = Partial<ItemIn> & { archived?: boolean }
export interface Movement {
  movement_id: string; item_id: string; kind: MovementKind; quantity: number; stock_after: number
  short: number | null; reason: string | null; supplier: string | null; lot: string | null; expiry: string | null
  cost: string | null; patient_id: string | null; appointment_id: string | null; plan_item_id: string | null
  treatment_id: string | null; actor_name: string | null; at: string
}
export interface MovementResult { item: InventoryItem; movement: Movement; alerted: boolean }
export interface ReceiveIn { quantity: number; supplier?: string | null; lot?: string | null; expiry?: string | null; cost?: string | null }
export interface ConsumeIn { quantity: number; patient_id?: string | null; appointment_id?: string | null; note?: string | null }
export interface AdjustIn { delta: number; reason: string }

export interface ItemQuery { q?: string; below?: boolean; archived?: boolean; cursor?: string | null; limit?: number }

export const inventoryApi = {
  list: (q: ItemQuery) =>
    api.get<Page<InventoryItem>>('/inventory/items', { query: { q: q.q?.trim() || undefined, below: q.below || undefined, archived: q.archived || undefined, cursor: q.cursor, limit: q.limit ?? 50 } }),
  expiring: (cursor: string | null = null, days = 30) => api.get<Page<ExpiringLot>>('/inventory/expiring', { query: { days, cursor, limit: 50 } }),
  get: (id: string) => api.get<InventoryItem>(`/inventory/items/${id}`),
  create: (body: ItemIn) => api.post<InventoryItem>('/inventory/items', body),
  update: (id: string, body: ItemUpdate) => api.patch<InventoryItem>(`/inventory/items/${id}`, body),
  movements: (id: string, cursor: string | null = null) => api.get<Page<Movement>>(`/inventory/items/${id}/movements`, { query: { cursor, limit: 25 } }),
  receive: (id: string, body: ReceiveIn) => api.post<MovementResult>(`/inventory/items/${id}/receive`, body),
  consume: (id: string, body: ConsumeIn) => api.post<MovementResult>(`/inventory/items/${id}/consume`, body),
  adjust: (id: string, body: AdjustIn) => api.post<MovementResult>(`/inventory/items/${id}/adjust`, body),
}

/** Every active item, for pickers (the catalog's materials editor): a few pages at most. */
export async function allItems(): Promise<InventoryItem[]> {
  const out: InventoryItem[] = []
  let cursor: string | null = null
  for (let i = 0; i < 20; i++) {
    const page: Page<InventoryItem> = await inventoryApi.list({ cursor, limit: 100 })
    out.push(...page.items)
    cursor = page.next_cursor
    if (!cursor) break
  }
  return out
}
