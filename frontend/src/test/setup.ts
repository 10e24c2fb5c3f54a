// Mount helpers for component tests: the app's plugins (Pinia, i18n in Spanish, PrimeVue)
// around a component, with an in-memory router.
import { mount, flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import PrimeVue from 'primevue/config'
import ToastService from 'primevue/toastservice'
import { createMemoryHistory, createRouter, type RouteRecordRaw } from 'vue-router'
import type { Component } from 'vue'
import { i18n } from '@/i18n'

export async function mountAt(component: Component, path: string, routes: RouteRecordRaw[] = [], props: Record<string, unknown> = {}) {
  const pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = 'es'
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/login', name: 'login', component }, { path: '/', name: 'dashboard', component: { template: '<div>home</div>' } }, { path: '/forgot-password', name: 'forgot-password', component: { template: '<div>forgot</div>' } }, ...routes],
  })
  await router.push(path)
  await router.isReady()
  const wrapper = mount(component, { props, global: { plugins: [pinia, i18n, router, [PrimeVue, { theme: 'none' }], ToastService] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router }
}
