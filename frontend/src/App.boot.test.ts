import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import PrimeVue from 'primevue/config'
import ToastService from 'primevue/toastservice'
import ConfirmationService from 'primevue/confirmationservice'
import { createMemoryHistory, createRouter } from 'vue-router'
import App from './App.vue'
import { i18n } from '@/i18n'
import { STORAGE_KEY } from '@/auth/session'

afterEach(() => {
  localStorage.clear()
  document.body.innerHTML = ''
})

async function boot() {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: { template: '<main data-testid="screen">screen</main>' } }] })
  router.beforeEach(async () => {
    await gate // the stored session is being checked with /auth/me
  })
  void router.push('/')
  const wrapper = mount(App, { global: { plugins: [createPinia(), i18n, router, [PrimeVue, { theme: 'none' }], ToastService, ConfirmationService] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, release }
}

describe('first paint', () => {
  it('a stored session shows the shell frame at once, until the first screen is ready', async () => {
    localStorage.setItem(STORAGE_KEY, '{}')
    const { wrapper, release } = await boot()
    expect(wrapper.find('[data-testid="boot"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="screen"]').exists()).toBe(false)
    release()
    await flushPromises()
    expect(wrapper.find('[data-testid="boot"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="screen"]').exists()).toBe(true)
  })

  it('someone signed out goes straight to the sign-in page, without the frame', async () => {
    const { wrapper, release } = await boot()
    expect(wrapper.find('[data-testid="boot"]').exists()).toBe(false)
    release()
  })
})
