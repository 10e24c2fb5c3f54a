// What a capture's file says about its patient, readable (pure; unit-tested).

/** A DICOM person name ("GARCIA LOPEZ^ANA^^DRA") as people write it: "Ana Garcia Lopez". */
export function dicomName(pn: string | null | undefined): string | null {
  if (!pn) return null
  const [family = '', given = '', middle = ''] = pn.split('=')[0]!.split('^').map((s) => s.trim())
  const cap = (s: string) => s.toLocaleLowerCase().replace(/(^|[\s'-])(\p{L})/gu, (_, a: string, b: string) => a + b.toLocaleUpperCase())
  const words = [given, middle, family].filter(Boolean).join(' ')
  if (!words) return null
  return words === words.toLocaleUpperCase() ? cap(words) : words
}

/** A DICOM date ("19800102") or an ISO one, as an ISO date; null when it is not a date. */
export function dicomDate(v: string | null | undefined): string | null {
  if (!v) return null
  const m = /^(\d{4})-?(\d{2})-?(\d{2})/.exec(v.trim())
  if (!m) return null
  const [, y, mo, d] = m
  const ok = Number(mo) >= 1 && Number(mo) <= 12 && Number(d) >= 1 && Number(d) <= 31
  return ok ? `${y}-${mo}-${d}` : null
}

/** Suggestions with the capture's candidate patients first, each patient once. */
export function candidatesFirst<T extends { patient_id: string }>(candidates: T[], found: T[]): T[] {
  const seen = new Set<string>()
  const out: T[] = []
  for (const p of [...candidates, ...found]) {
    if (seen.has(p.patient_id)) continue
    seen.add(p.patient_id)
    out.push(p)
  }
  return out
}
