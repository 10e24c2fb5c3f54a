// FDI two-digit tooth numbers (ISO 3950): quadrants 1–4 permanent (teeth 1–8), 5–8 deciduous
// (teeth 1–5).
export function isFdiTooth(n: number): boolean {
  if (!Number.isInteger(n)) return false
  const q = Math.floor(n / 10)
  const t = n % 10
  return (q >= 1 && q <= 4 && t >= 1 && t <= 8) || (q >= 5 && q <= 8 && t >= 1 && t <= 5)
}

/** The tooth typed in a field: null when empty, NaN when it is not an FDI tooth number. */
export function parseTooth(text: string): number | null {
  const s = text.trim()
  if (!s) return null
  return /^\d{2}$/.test(s) && isFdiTooth(Number(s)) ? Number(s) : NaN
}

/**
 * A list of teeth typed as "11, 21 36": the sorted, distinct FDI numbers, or the first entry
 * that is not one (to name it in the error).
 */
export function parseTeeth(text: string): { teeth: number[] } | { invalid: string } {
  const out = new Set<number>()
  for (const part of text.split(/[\s,;]+/).filter(Boolean)) {
    const n = parseTooth(part)
    if (n === null || Number.isNaN(n)) return { invalid: part }
    out.add(n)
  }
  return { teeth: [...out].sort((a, b) => a - b) }
}
