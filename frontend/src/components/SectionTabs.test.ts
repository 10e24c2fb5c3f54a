import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import PrimeVue from 'primevue/config'
import { createMemoryHistory, createRouter } from 'vue-router'
import { defineComponent, h } from 'vue'
import { i18n } from '@/i18n'
import { useSession } from '@/stores/session'
import type { MeOut } from '@/api/types'
import { BILLING_SECTIONS } from '@/layouts/nav'
import SectionTabs from './SectionTabs.vue'

// The page of the Billing screen: one tab per section the user may see, the open one in the
// address, and only its content mounted.
const Page = defineComponent({
  props: { section: { type: String, required: false } },
  setup: (props) => () =>
    h(SectionTabs, { route: 'billing', sections: BILLING_SECTIONS, section: props.section, title: 'Billing', subtitle: '' }, {
      budgets: () => h('p', { 'data-testid': 'content-budgets' }),
      takings: () => h('p', { 'data-testid': 'content-takings' }),
      catalog: () => h('p', { 'data-testid': 'content-catalog' }),
    }),
})

async function open(path: string, permissions: string[]) {
  vi.stubGlobal('ResizeObserver', class { observe() {} unobserve() {} disconnect() {} })
  Element.prototype.scrollIntoView ??= () => {}
  const pinia = createPinia()
  setActivePinia(pinia)
  useSession().me = { permissions, role: 'x', user: { user_id: 'u', email: 'a@b.c', name: 'A', language: 'en' }, clinic: {}, clinics: [], plan: 'pro', session_id: 's' } as unknown as MeOut
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/billing/:section?', name: 'billing', component: Page, props: true }] })
  await router.push(path)
  await router.isReady()
  mount({ template: '<router-view />' }, { global: { plugins: [pinia, i18n, router, [PrimeVue, { theme: 'none' }]] }, attachTo: document.body })
  await flushPromises()
  return router
}
const tabs = () => [...document.querySelectorAll('[data-testid^="billing-tab-"]')].map((e) => e.getAttribute('data-testid')!.slice('billing-tab-'.length))
const byTestId = (id: string) => document.querySelector(`[data-testid="${id}"]`)

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('SectionTabs', () => {
  it('shows only the sections the user holds a permission for', async () => {
    await open('/billing', ['billing.catalog.read', 'billing.payments.write'])
    expect(tabs()).toEqual(['takings', 'catalog'])
  })

  it('opens the first section it may show when the address names none or one it may not see', async () => {
    await open('/billing/budgets', ['billing.catalog.read'])
    expect(byTestId('content-catalog')).not.toBeNull()
    expect(byTestId('content-budgets')).toBeNull()
  })

  it('mounts only the open section, and choosing a tab puts it in the address', async () => {
    const router = await open('/billing/takings', ['billing.*'])
    expect(byTestId('content-takings')).not.toBeNull()
    expect(byTestId('content-catalog')).toBeNull()
    ;(byTestId('billing-tab-catalog') as HTMLElement).click()
    await flushPromises()
    expect(router.currentRoute.value.params.section).toBe('catalog')
    expect(byTestId('content-catalog')).not.toBeNull()
    expect(byTestId('content-takings')).toBeNull()
  })
})
