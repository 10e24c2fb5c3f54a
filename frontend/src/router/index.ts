import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSession } from '@/stores/session'
import { can } from '@/auth/permissions'
import { BILLING_PERMISSIONS, SETTINGS_PERMISSIONS } from '@/layouts/nav'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    permission?: string | string[]
    title?: string
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { public: true } },
  { path: '/forgot-password', name: 'forgot-password', component: () => import('@/views/ForgotPasswordView.vue'), meta: { public: true } },
  { path: '/reset-password', name: 'reset-password', component: () => import('@/views/ResetPasswordView.vue'), meta: { public: true } },
  { path: '/accept-invitation', name: 'accept-invitation', component: () => import('@/views/AcceptInvitationView.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('@/layouts/AppShell.vue'),
    children: [
      { path: '', name: 'dashboard', component: () => import('@/views/DashboardView.vue'), meta: { title: 'nav.dashboard' } },
      {
        path: 'patients',
        name: 'patients',
        component: () => import('@/views/patients/PatientsView.vue'),
        meta: { permission: 'patients.read', title: 'nav.patients' },
      },
      {
        path: 'patients/:id/:tab?',
        name: 'patient',
        component: () => import('@/views/patients/PatientDetailView.vue'),
        meta: { permission: 'patients.read', title: 'nav.patients' },
        props: true,
      },
      {
        path: 'agenda',
        name: 'agenda',
        component: () => import('@/views/agenda/AgendaView.vue'),
        meta: { permission: 'agenda.appointments.read', title: 'nav.agenda' },
      },
      {
        path: 'inbox',
        name: 'inbox',
        component: () => import('@/views/inbox/InboxView.vue'),
        meta: { permission: 'imaging.images.read', title: 'nav.inbox' },
      },
      { path: 'notes/search', name: 'notes-search', component: () => import('@/views/notes/NotesSearchView.vue'), meta: { permission: 'clinical.notes.read', title: 'notes.search.title' } },
      { path: 'ortho', name: 'ortho', component: () => import('@/views/ortho/OrthoCasesView.vue'), meta: { permission: 'clinical.ortho.read', title: 'ortho.nav' } },
      { path: 'inventory', name: 'inventory', component: () => import('@/views/inventory/InventoryView.vue'), meta: { permission: 'inventory.read', title: 'inventory.nav' } },
      { path: 'inventory/items/new', name: 'inventory-item-new', component: () => import('@/views/inventory/InventoryItemView.vue'), meta: { permission: 'inventory.write', title: 'inventory.nav' } },
      { path: 'inventory/items/:id', name: 'inventory-item', component: () => import('@/views/inventory/InventoryItemView.vue'), meta: { permission: 'inventory.read', title: 'inventory.nav' }, props: true },
      { path: 'labs', name: 'labs', component: () => import('@/views/labs/LabCasesView.vue'), meta: { permission: 'labs.read', title: 'labs.nav' } },
      { path: 'labs/cases/new', name: 'lab-case-new', component: () => import('@/views/labs/LabCaseView.vue'), meta: { permission: 'labs.write', title: 'labs.nav' } },
      { path: 'labs/cases/:id', name: 'lab-case', component: () => import('@/views/labs/LabCaseView.vue'), meta: { permission: 'labs.read', title: 'labs.nav' }, props: true },
      { path: 'reports/:report?', name: 'reports', component: () => import('@/views/reports/ReportsView.vue'), meta: { permission: 'reports.read', title: 'reports.nav' } },
      { path: 'followup/:section?', name: 'followup', component: () => import('@/views/recalls/FollowUpView.vue'), meta: { permission: 'recalls.read', title: 'recalls.nav' }, props: true },
      { path: 'messages', name: 'messages', component: () => import('@/views/comms/MessagesView.vue'), meta: { permission: 'comms.messages.read', title: 'nav.messages' } },
      {
        path: 'billing/:section?',
        name: 'billing',
        component: () => import('@/views/billing/BillingView.vue'),
        meta: { permission: BILLING_PERMISSIONS, title: 'nav.billing' },
        props: true,
      },
      {
        path: 'settings/:section?',
        name: 'settings',
        component: () => import('@/views/settings/SettingsView.vue'),
        meta: { permission: SETTINGS_PERMISSIONS, title: 'nav.settings' },
        props: true,
      },
      { path: ':pathMatch(.*)*', name: 'notfound', component: () => import('@/views/NotFoundView.vue') },
    ],
  },
]

export const router = createRouter({ history: createWebHistory(), routes })

let restored: Promise<boolean> | null = null

router.beforeEach(async (to) => {
  const session = useSession()
  if (!restored) restored = session.restore()
  await restored
  if (to.meta.public) return session.signedIn && to.name === 'login' ? { name: 'dashboard' } : true
  if (!session.signedIn) {
    // A stored session found revoked or expired on the way in says so on the sign-in page.
    const reason = session.ended && session.ended !== 'signed_out' ? { reason: session.ended } : {}
    return { name: 'login', query: { ...(to.fullPath !== '/' ? { next: to.fullPath } : {}), ...reason } }
  }
  if (!can(session.permissions, to.meta.permission)) return { name: 'dashboard' }
  return true
})
