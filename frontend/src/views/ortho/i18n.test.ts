import { describe, expect, it } from 'vitest'
import es from '@/i18n/es'
import en from '@/i18n/en'

function keys(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null) return [prefix]
  return Object.entries(o).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

describe('ortho words', () => {
  it('has the same keys in Spanish and English', () => {
    expect(keys((es as Record<string, unknown>).ortho).sort()).toEqual(keys((en as Record<string, unknown>).ortho).sort())
  })
  it('names every ortho timeline event in both languages', () => {
    const events = ['case_started', 'case_updated', 'case_finished', 'visit_recorded', 'tray_changed', 'photos_linked', 'reminder_sent']
    for (const lang of [es, en] as unknown as { timeline: { types: Record<string, string> } }[])
      for (const e of events) expect(lang.timeline.types[`ortho_${e}`]).toBeTruthy()
  })
})
