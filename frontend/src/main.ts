import { createApp } from 'vue'
import { createPinia } from 'pinia'
import PrimeVue from 'primevue/config'
import ToastService from 'primevue/toastservice'
import ConfirmationService from 'primevue/confirmationservice'
import Tooltip from 'primevue/tooltip'
import 'primeicons/primeicons.css'
import './styles/main.css'
import App from './App.vue'
import { router } from './router'
import { i18n } from './i18n'
import { CuspidePreset } from './styles/theme'
import { useSession } from './stores/session'
import { keepFocusInsideOpeningDialogs } from './components/dialogFocus'

const app = createApp(App)
app.use(createPinia())
app.use(i18n)
app.use(PrimeVue, {
  theme: { preset: CuspidePreset, options: { darkModeSelector: '.app-dark', cssLayer: false } },
  ripple: false,
})
app.use(ToastService)
app.use(ConfirmationService)
app.directive('tooltip', Tooltip)
keepFocusInsideOpeningDialogs()

const session = useSession()
session.onSessionEnded((reason) => {
  if (reason === 'signed_out') void router.push({ name: 'login' })
  else void router.push({ name: 'login', query: { reason, next: router.currentRoute.value.fullPath } })
})

app.use(router)
document.documentElement.lang = String(i18n.global.locale.value)
app.mount('#app')
