import type { Gated } from '@/auth/permissions'

export interface NavItem extends Gated {
  to: string
  label: string // i18n key
  icon: string
  name: string
  /** A live count beside the label (the inbox of unassigned captures). */
  badge?: 'inbox'
}

/** Any of these opens Settings (one per tab of SettingsView; the router gates the route with it). */
export const SETTINGS_PERMISSIONS = ['settings.clinic.read', 'settings.staff.read', 'settings.roles.read', 'audit.read', 'verifactu.read', 'verifactu.books.export', 'bridge.devices.manage', 'clinical.templates.write', 'recalls.manage', 'booking.manage']

/** A tab of a page of sections (SectionTabs: Settings, Billing); `label` is an i18n key. */
export interface Section extends Gated { key: string; label: string; icon: string }

/** The tabs of the billing screen (BillingView); any of their permissions opens it. */
export const BILLING_SECTIONS: Section[] = [
  { key: 'budgets', label: 'billing.tabs.budgets', icon: 'pi pi-file-edit', permission: 'billing.budgets.read' },
  { key: 'invoices', label: 'billing.tabs.invoices', icon: 'pi pi-receipt', permission: 'billing.invoices.read' },
  // Treatments marked done on the chart that no issued invoice covers yet (the front desk's list).
  { key: 'uninvoiced', label: 'billing.tabs.uninvoiced', icon: 'pi pi-clock', permission: 'billing.invoices.read' },
  { key: 'takings', label: 'billing.tabs.takings', icon: 'pi pi-wallet', permission: 'billing.payments.write' },
  { key: 'catalog', label: 'billing.tabs.catalog', icon: 'pi pi-list', permission: 'billing.catalog.read' },
]
export const BILLING_PERMISSIONS = BILLING_SECTIONS.flatMap((s) => s.permission ?? [])

/** The sidebar; an item shows only when the user holds its permission. */
export const NAV: NavItem[] = [
  { name: 'dashboard', to: '/', label: 'nav.dashboard', icon: 'pi pi-home' },
  { name: 'agenda', to: '/agenda', label: 'nav.agenda', icon: 'pi pi-calendar', permission: 'agenda.appointments.read' },
  { name: 'patients', to: '/patients', label: 'nav.patients', icon: 'pi pi-users', permission: 'patients.read' },
  { name: 'inbox', to: '/inbox', label: 'nav.inbox', icon: 'pi pi-inbox', permission: 'imaging.images.read', badge: 'inbox' },
  { name: 'notes-search', to: '/notes/search', label: 'notes.nav', icon: 'pi pi-pencil', permission: 'clinical.notes.read' },
  { name: 'ortho', to: '/ortho', label: 'ortho.nav', icon: 'pi pi-sliders-h', permission: 'clinical.ortho.read' },
  { name: 'labs', to: '/labs', label: 'labs.nav', icon: 'pi pi-box', permission: 'labs.read' },
  { name: 'inventory', to: '/inventory', label: 'inventory.nav', icon: 'pi pi-warehouse', permission: 'inventory.read' },
  { name: 'reports', to: '/reports', label: 'reports.nav', icon: 'pi pi-chart-bar', permission: 'reports.read' },
  { name: 'followup', to: '/followup', label: 'recalls.nav', icon: 'pi pi-replay', permission: 'recalls.read' },
  { name: 'messages', to: '/messages', label: 'nav.messages', icon: 'pi pi-comments', permission: 'comms.messages.read' },
  { name: 'billing', to: '/billing', label: 'nav.billing', icon: 'pi pi-wallet', permission: BILLING_PERMISSIONS },
  {
    name: 'settings',
    to: '/settings',
    label: 'nav.settings',
    icon: 'pi pi-cog',
    permission: SETTINGS_PERMISSIONS,
  },
]
