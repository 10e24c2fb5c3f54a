import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { reactive } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import PrimeVue from 'primevue/config'
import ToastService from 'primevue/toastservice'
import { i18n } from '@/i18n'
import { change, dictationPath, emptySite, emptyTooth, indices, keyAction, perioApi, screenSites, toInput, type Chart, type Exam } from '@/api/perio'
import { useSession } from '@/stores/session'
import PerioGrid, { type ChartOps } from './PerioGrid.vue'
import PerioTab from './PerioTab.vue'

afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

// The hand-computed fixture of tests/unit/perio/test_chart.py.
const CHART: Chart = {
  '16': {
    state: 'present', mobility: 1, furcation: 2,
    sites: {
      MB: { pd: 3, gm: 0, bop: true, sup: false, plaque: false },
      B: { pd: 2, gm: 1, bop: false, sup: false, plaque: false },
      DB: { pd: 5, gm: 2, bop: true, sup: false, plaque: true },
      ML: { pd: 4, gm: 0, bop: false, sup: false, plaque: false },
      L: { pd: 3, gm: 0, bop: false, sup: false, plaque: true },
      DL: { pd: 6, gm: 1, bop: true, sup: true, plaque: false },
    },
  },
  '11': {
    state: 'present', mobility: null, furcation: null,
    sites: { MB: { ...emptySite(), pd: 2 }, B: { ...emptySite(), pd: 1, gm: 2, bop: true }, DB: { ...emptySite(), pd: 2 } },
  },
  '26': { ...emptyTooth(), state: 'missing' },
  '36': { ...emptyTooth(), state: 'implant' },
}

describe('the chart rules', () => {
  it('indices as the API computes them', () => {
    expect(indices(CHART)).toEqual({
      sites_examined: 9, teeth_examined: 2, teeth_missing: 1, implants: 1, bop_sites: 4, bop_percent: 44.4,
      plaque_sites: 2, plaque_percent: 22.2, suppuration_sites: 1, sites_pd_ge4: 3, sites_pd_ge6: 1, mean_pd: 3.11, mean_cal: 3.78,
    })
    expect(indices({}).bop_percent).toBeNull()
  })

  it('sites sit where they are in the mouth: distal towards the outside', () => {
    expect(screenSites('16', 'buccal')).toEqual(['DB', 'B', 'MB'])
    expect(screenSites('26', 'lingual')).toEqual(['ML', 'L', 'DL'])
    expect(screenSites('46', 'buccal')).toEqual(['DB', 'B', 'MB'])
    expect(screenSites('36', 'lingual')).toEqual(['ML', 'L', 'DL'])
  })

  it('the dictation path: upper buccal 18→28, palatal 28→18, lower lingual 38→48, buccal 48→38', () => {
    const p = dictationPath({})
    expect(p).toHaveLength(192)
    expect(p.slice(0, 4)).toEqual([{ tooth: '18', site: 'DB' }, { tooth: '18', site: 'B' }, { tooth: '18', site: 'MB' }, { tooth: '17', site: 'DB' }])
    expect(p.slice(21, 27).map((x) => `${x.tooth}${x.site}`)).toEqual(['11DB', '11B', '11MB', '21MB', '21B', '21DB'])
    expect(p.slice(48, 51).map((x) => `${x.tooth}${x.site}`)).toEqual(['28DL', '28L', '28ML'])
    expect(p.slice(96, 99).map((x) => `${x.tooth}${x.site}`)).toEqual(['38DL', '38L', '38ML'])
    expect(p.slice(144, 147).map((x) => `${x.tooth}${x.site}`)).toEqual(['48DB', '48B', '48MB'])
    expect(p[191]).toEqual({ tooth: '38', site: 'DB' })
    const skipping = dictationPath(CHART)
    expect(skipping).toHaveLength(192 - 12)
    expect(skipping.some((x) => x.tooth === '26' || x.tooth === '36')).toBe(false)
  })

  it('keys: a digit, "+" for tens, "-" for a negative margin, flags', () => {
    expect(keyAction('3', 'pd', null)).toEqual({ kind: 'value', value: 3 })
    expect(keyAction('2', 'pd', '+')).toEqual({ kind: 'value', value: 12 })
    expect(keyAction('7', 'pd', '+')).toEqual({ kind: 'none' })
    expect(keyAction('-', 'pd', null)).toEqual({ kind: 'none' })
    expect(keyAction('2', 'gm', '-')).toEqual({ kind: 'value', value: -2 })
    expect(keyAction('B', 'pd', null)).toEqual({ kind: 'flag', flag: 'bop' })
    expect(keyAction('s', 'pd', null)).toEqual({ kind: 'flag', flag: 'sup' })
    expect(keyAction('Enter', 'pd', null, true)).toEqual({ kind: 'prev' })
  })

  it('changes of 2 mm or more count; the API takes no CAL and no empty site', () => {
    expect([change(5, 3), change(3, 4), change(4, 6), change(null, 3)]).toEqual(['improved', 'stable', 'worse', null])
    const input = toInput({ ...CHART, '17': { ...emptyTooth(), sites: { MB: emptySite() } }, '16': { ...CHART['16'], sites: { MB: { ...CHART['16'].sites.MB!, cal: 3 } } } })
    expect(input['16'].sites.MB).toEqual({ pd: 3, gm: 0, bop: true, sup: false, plaque: false })
    expect(input['17']).toBeUndefined()
    expect(input['26']).toEqual({ state: 'missing', mobility: null, furcation: null, sites: {} })
  })
})

describe('the grid', () => {
  function mountGrid(chart: Chart = reactive({})) {
    const ops: ChartOps = {
      setSite(tooth, site, patch) {
        const t = (chart[tooth] ??= emptyTooth())
        t.sites[site] = { ...(t.sites[site] ?? emptySite()), ...patch }
      },
      setTooth(tooth, patch) {
        Object.assign((chart[tooth] ??= emptyTooth()), patch)
      },
    }
    const w = mount(PerioGrid, { props: { chart, prev: null, readonly: false, ops }, global: { plugins: [i18n, [PrimeVue, { theme: 'none' }]] }, attachTo: document.body })
    return { w, chart }
  }

  it('a digit stores the depth and moves on; B marks bleeding on the site just entered', async () => {
    const { w, chart } = mountGrid()
    const first = w.get('[data-testid="pd-18-DB"]')
    ;(first.element as HTMLInputElement).focus()
    await first.trigger('keydown', { key: '3' })
    await flushPromises()
    expect(chart['18'].sites.DB!.pd).toBe(3)
    expect(document.activeElement).toBe(w.get('[data-testid="pd-18-B"]').element)
    await w.get('[data-testid="pd-18-B"]').trigger('keydown', { key: 'b' })
    expect(chart['18'].sites.DB!.bop).toBe(true)
    await w.get('[data-testid="pd-18-B"]').trigger('keydown', { key: '+' })
    await w.get('[data-testid="pd-18-B"]').trigger('keydown', { key: '1' })
    expect(chart['18'].sites.B!.pd).toBe(11)
  })

  it('the last upper buccal site leads to the palatal row; X skips a missing tooth', async () => {
    const { w, chart } = mountGrid()
    await w.get('[data-testid="pd-28-DB"]').trigger('keydown', { key: '2' })
    await flushPromises()
    expect(document.activeElement).toBe(w.get('[data-testid="pd-28-DL"]').element)
    await w.get('[data-testid="pd-17-MB"]').trigger('keydown', { key: 'x' })
    await flushPromises()
    expect(chart['17'].state).toBe('missing')
    expect(w.find('[data-testid="pd-17-MB"]').exists()).toBe(false)
    expect(document.activeElement).toBe(w.get('[data-testid="pd-16-DB"]').element)
  })

  it('every input says its tooth, site and measure', () => {
    i18n.global.locale.value = 'es'
    const { w } = mountGrid()
    expect(w.get('[data-testid="pd-16-MB"]').attributes('aria-label')).toBe('Diente 16, mesiovestibular, profundidad')
    expect(w.get('[data-testid="gm-26-L"]').attributes('aria-label')).toBe('Diente 26, palatino, margen gingival')
    expect(w.get('[data-testid="pd-36-DL"]').attributes('aria-label')).toBe('Diente 36, distolingual, profundidad')
  })
})

describe('the perio strings', () => {
  it('Spanish and English have the same keys', async () => {
    const es = (await import('@/i18n/es')).default as Record<string, unknown>
    const en = (await import('@/i18n/en')).default as Record<string, unknown>
    const keys = (o: unknown, p = ''): string[] =>
      typeof o === 'object' && o !== null ? Object.entries(o).flatMap(([k, v]) => keys(v, `${p}.${k}`)) : [p]
    expect(keys(es.perio).sort()).toEqual(keys(en.perio).sort())
    expect(keys(es.perio).length).toBeGreaterThan(60)
  })
})

describe('the perio tab', () => {
  const summary = (over: Partial<Exam> = {}): Exam => ({
    exam_id: 'E1', patient_id: 'P1', exam_date: '2026-03-09', appointment_id: null, status: 'draft', examiner_id: 'U1',
    examiner_name: 'Sergio', amends: null, amended_by: null, indices: indices({}), created_at: '', updated_at: '',
    completed_at: null, completed_by_name: null, version: 1, teeth: {}, previous_exam_id: null, ...over,
  })

  async function mountTab(permissions: string[], exam: Exam) {
    vi.stubGlobal('matchMedia', (q: string) => ({ matches: false, media: q, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }))
    const pinia = createPinia()
    setActivePinia(pinia)
    useSession().me = { permissions, user: { user_id: 'U1' } } as never
    vi.spyOn(perioApi, 'list').mockResolvedValue({ items: [exam], next_cursor: null })
    vi.spyOn(perioApi, 'get').mockResolvedValue(exam)
    const w = mount(PerioTab, { props: { patientId: 'P1' }, global: { plugins: [pinia, i18n, [PrimeVue, { theme: 'none' }], ToastService] }, attachTo: document.body })
    await flushPromises()
    return w
  }

  it('saves the draft a moment after typing, one save at a time, with the version it got back', async () => {
    vi.useFakeTimers()
    const w = await mountTab(['clinical.perio.read', 'clinical.perio.write'], summary())
    let version = 1
    const save = vi.spyOn(perioApi, 'save').mockImplementation(async (_id, v, teeth) => {
      expect(v).toBe(version)
      version += 1
      return summary({ version, teeth })
    })
    await w.get('[data-testid="pd-18-DB"]').trigger('keydown', { key: '3' })
    await w.get('[data-testid="pd-18-B"]').trigger('keydown', { key: '4' })
    expect(save).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(900)
    expect(save).toHaveBeenCalledTimes(1)
    expect(save.mock.calls[0][2]['18'].sites.B!.pd).toBe(4)
    await w.get('[data-testid="pd-18-MB"]').trigger('keydown', { key: '2' })
    await vi.advanceTimersByTimeAsync(900)
    expect(save).toHaveBeenCalledTimes(2)
    expect(save.mock.calls[1][1]).toBe(2)
    expect(w.get('[data-testid="perio-save-state"]').text()).toBe('Guardado')
    expect(w.get('[data-testid="perio-index-sites"]').text()).toBe('3')
    vi.useRealTimers()
  })

  it('a completed exam is read only, and without the write permission nothing is offered', async () => {
    const w = await mountTab(['clinical.perio.read'], summary({ status: 'completed', teeth: CHART }))
    expect(w.get('[data-testid="pd-16-DB"]').attributes('readonly')).toBeDefined()
    expect(w.find('[data-testid="perio-new"]').exists()).toBe(false)
    expect(w.find('[data-testid="perio-complete"]').exists()).toBe(false)
    expect(w.get('[data-testid="perio-index-bop_percent"]').text()).toContain('44,4')
  })
})
