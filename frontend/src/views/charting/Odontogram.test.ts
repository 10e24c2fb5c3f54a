import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { i18n } from '@/i18n'
import es from '@/i18n/es'
import en from '@/i18n/en'
import type { Finding } from '@/api/charting'
import Odontogram from './Odontogram.vue'

const caries: Finding = {
  finding_id: 'f1', code: 'caries', kind: 'condition', tooth: 36, teeth: [], surfaces: ['O'], material: null, note: null,
  plan_item_id: null, supersedes: null, recorded_at: '2026-01-01T10:00:00Z', recorded_by: 'u', recorded_by_name: null, ended_at: null, end_reason: null,
}

function keysOf(o: unknown, prefix = ''): string[] {
  return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => (v && typeof v === 'object' ? keysOf(v, `${prefix}${k}.`) : [`${prefix}${k}`]))
}

describe('Odontogram', () => {
  it('has the same chart strings in Spanish and English', () => {
    expect(keysOf((es as Record<string, unknown>).charting).sort()).toEqual(keysOf((en as Record<string, unknown>).charting).sort())
  })

  it('is one tab stop; arrows move, Enter opens; findings drawn on their surface', async () => {
    i18n.global.locale.value = 'en'
    const w = mount(Odontogram, {
      props: { dentition: 'permanent', findings: [caries], plan: [], xrayTeeth: [36], selected: null },
      global: { plugins: [i18n] },
      attachTo: document.body,
    })
    const tabbable = w.findAll('[tabindex="0"]')
    expect(tabbable).toHaveLength(1)
    expect(tabbable[0]!.attributes('data-testid')).toBe('tooth-18')
    await tabbable[0]!.trigger('keydown', { key: 'ArrowRight' })
    expect(w.find('[data-testid="tooth-17"]').attributes('tabindex')).toBe('0')
    await w.find('[data-testid="tooth-17"]').trigger('keydown', { key: 'Enter' })
    expect(w.emitted('open')![0]).toEqual([17])
    const t36 = w.find('[data-tooth="36"]')
    expect(t36.find('[data-surface="O"]').classes()).toContain('condition')
    expect(t36.find('[data-surface="M"]').classes()).toContain('none')
    expect(t36.find('[role=button]').attributes('aria-label')).toContain('Has X-rays')
    expect(t36.find('[data-testid="xray-badge"]').exists()).toBe(true)
    w.unmount()
  })
})
