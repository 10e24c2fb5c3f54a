// Pure helpers of Settings → Bridge (unit-tested).
import type { DeviceOut } from '@/api/bridge'

/** A device heard from within this long is "connected" (the client's heartbeat is far more frequent). */
export const ONLINE_MS = 5 * 60_000

export type Health = 'revoked' | 'never' | 'online' | 'offline'

export function deviceHealth(d: Pick<DeviceOut, 'status' | 'last_seen_at'>, now: number): Health {
  if (d.status === 'revoked') return 'revoked'
  if (!d.last_seen_at) return 'never'
  return now - Date.parse(d.last_seen_at) <= ONLINE_MS ? 'online' : 'offline'
}

export const HEALTH_SEVERITY: Record<Health, 'success' | 'warn' | 'secondary' | 'danger'> = {
  online: 'success', offline: 'warn', never: 'secondary', revoked: 'danger',
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400_000], ['month', 30 * 86_400_000], ['week', 7 * 86_400_000], ['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000],
]

/** "hace 3 minutos" / "3 minutes ago"; under a minute "ahora" / "now"; a future time "dentro de 2 horas". */
export function relativeTime(iso: string, now: number, locale: string): string {
  const diff = Date.parse(iso) - now
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' })
  const abs = Math.abs(diff)
  for (const [unit, ms] of UNITS) {
    if (abs >= ms) return rtf.format(Math.round(diff / ms), unit)
  }
  return rtf.format(0, 'second')
}

/** How a grace period reads: 0 → "at once", 1 → "1 hour", 24 → "1 day", 72 → "3 days", 168 → "1 week". */
export function graceParts(hours: number): { unit: 'now' | 'hours' | 'days' | 'weeks'; n: number } {
  if (hours <= 0) return { unit: 'now', n: 0 }
  if (hours % 168 === 0) return { unit: 'weeks', n: hours / 168 }
  if (hours % 24 === 0) return { unit: 'days', n: hours / 24 }
  return { unit: 'hours', n: hours }
}

/** The key as the list shows it: the public prefix, never the secret. */
export const maskedKey = (prefix: string | null | undefined) => (prefix ? `cbk_${prefix}.••••••••` : '—')
