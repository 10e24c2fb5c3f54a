// Small pure helpers of the inventory screens (tested in stock.test.ts).

/** A whole quantity typed by a person ("12", " 3 "), or null; `signed` allows "-2" / "+2". */
export function parseQty(text: string | number | null | undefined, signed = false): number | null {
  const s = String(text ?? '').trim().replace(/^\+/, '')
  if (!(signed ? /^-?\d{1,7}$/ : /^\d{1,7}$/).test(s)) return null
  const n = Number(s)
  if (!signed && n < 1) return null
  if (signed && n === 0) return null
  return n
}

export type Level = 'out' | 'low' | 'ok'

/** How the stock stands against the reorder threshold (the list's badge). */
export function level(stock: number, threshold: number): Level {
  if (stock <= 0) return 'out'
  return stock < threshold ? 'low' : 'ok'
}

/** Whole days from `today` (YYYY-MM-DD) to `expiry` (YYYY-MM-DD): negative once expired. */
export function daysLeft(expiry: string, today: string): number {
  const a = Date.UTC(+today.slice(0, 4), +today.slice(5, 7) - 1, +today.slice(8, 10))
  const b = Date.UTC(+expiry.slice(0, 4), +expiry.slice(5, 7) - 1, +expiry.slice(8, 10))
  return Math.round((b - a) / 86_400_000)
}

/** The list's filter from the address (`?below=1`, `?expiring=1`). */
export type Filter = 'all' | 'below' | 'expiring'
export function filterOf(query: Record<string, unknown>): Filter {
  if (query.below === '1' || query.below === 'true') return 'below'
  if (query.expiring === '1' || query.expiring === 'true') return 'expiring'
  return 'all'
}

/** Today in the browser's zone as YYYY-MM-DD. */
export function todayIso(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`
}
