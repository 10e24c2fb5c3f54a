// Small pure helpers of the follow-up screens (dates as 'YYYY-MM-DD' in the browser's day).

/** Today as 'YYYY-MM-DD' (the browser's day, which is the clinic's for its staff). */
export function todayIso(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`
}

/** 'YYYY-MM-DD' plus days, in calendar terms (no time zone drift). */
export function isoPlus(iso: string, days: number): string {
  const [y, m, d] = iso.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10)
}

type T = (key: string, values?: Record<string, unknown>) => string

/** "Overdue by 3 days", "Due today", "Due in 4 days". */
export function dueWords(t: T, daysOverdue: number): string {
  if (daysOverdue > 0) return t('recalls.overdue', { n: daysOverdue })
  if (daysOverdue === 0) return t('recalls.dueToday')
  return t('recalls.dueIn', { n: -daysOverdue })
}

/** Codes typed as "rev, limp" -> ['REV', 'LIMP']. */
export function parseCodes(text: string): string[] {
  return [...new Set(text.split(/[,\s;]+/).map((c) => c.trim().toUpperCase()).filter(Boolean))]
}

/** Days typed as "0, 21" -> [0, 21] (null when not whole numbers). */
export function parseDays(text: string): number[] | null {
  const parts = text.split(/[,\s;]+/).filter(Boolean)
  if (!parts.every((p) => /^\d+$/.test(p))) return null
  return parts.map(Number)
}
