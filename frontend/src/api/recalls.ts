// Recalls and follow-ups (chalicelib/recalls, ADR 1404): recall rules, the due list, the
// follow-up lists (unanswered budgets, unscheduled treatment, no-shows), a patient's recalls,
// and the front desk's actions. `recalls.read` / `.write` / `.manage`.
import { api } from './http'
import type { Page } from './types'

export type FollowUpKind = 'budget' | 'plan' | 'noshow'
export const FOLLOWUP_KINDS: FollowUpKind[] = ['budget', 'plan', 'noshow']
export type RecallStatus = 'due' | 'booked' | 'dismissed'

export interface Rule {
  rule_id: string; name_es: string; name_en: string | null; codes: string[]; ortho_finished: boolean
  interval_months: number; booking_type_id: string | null; active: boolean; updated_at: string
}
export type RuleIn = Omit<Rule, 'rule_id' | 'updated_at'>
export interface Sent { at: string; step: number | null; channel: string | null; status: 'sent' | 'skipped'; reason?: string | null; message_id?: string | null }
export interface Recall {
  recall_id: string; patient_id: string; patient_name: string | null; rule_id: string; rule_name: string | null
  status: RecallStatus; due: string; snoozed_until: string | null; effective_due: string; days_overdue: number
  last_done: string | null; source: string; appointment_id: string | null; reminder_count: number
  reminders: Sent[]; last_outcome: string | null; note: string | null; updated_at: string
}
export interface FollowUp {
  followup_id: string; kind: FollowUpKind; patient_id: string; patient_name: string | null; ref_id: string | null
  ref_number: string | null; since: string; days: number; status: 'open' | 'done'; contacted_at: string | null
  done_at: string | null; notes: { at: string; by_name: string | null; outcome: string; note: string | null }[]
  messages: (Sent & { auto?: boolean })[]; updated_at: string
}
export interface Settings {
  recall_reminders: boolean; recall_reminder_days: number[]; budget_days: number; plan_days: number; noshow_days: number
  auto_budget: boolean; auto_plan: boolean; auto_noshow: boolean
}
export interface SendResult { status: 'sent' | 'skipped'; channel: string | null; reason: string | null; message_id: string | null }

const recall = (pid: string, rule: string) => `/patients/${pid}/recalls/${rule}`
const followup = (pid: string, id: string) => `/patients/${pid}/followups/${id}`

export const recallsApi = {
  rules: () => api.get<Rule[]>('/recalls/rules'),
  createRule: (body: RuleIn) => api.post<Rule>('/recalls/rules', body),
  updateRule: (id: string, body: Partial<RuleIn>) => api.patch<Rule>(`/recalls/rules/${id}`, body),
  settings: () => api.get<Settings>('/recalls/settings'),
  saveSettings: (body: Settings) => api.put<Settings>('/recalls/settings', body),
  due: (q: { until?: string | null; rule?: string | null; cursor?: string | null; limit?: number }) =>
    api.get<Page<Recall>>('/recalls/due', { query: { limit: q.limit ?? 25, until: q.until || undefined, rule: q.rule || undefined, cursor: q.cursor || undefined } }),
  followups: (kind: FollowUpKind, cursor?: string | null) => api.get<Page<FollowUp>>(`/followups/${kind}`, { query: { limit: 25, cursor: cursor || undefined } }),
  ofPatient: (pid: string) => api.get<{ recalls: Recall[]; followups: FollowUp[] }>(`/patients/${pid}/recalls`),
  set: (pid: string, rule: string, due: string) => api.put<Recall>(recall(pid, rule), { due }),
  snooze: (pid: string, rule: string, until: string) => api.post<Recall>(`${recall(pid, rule)}/snooze`, { until }),
  dismiss: (pid: string, rule: string) => api.post<Recall>(`${recall(pid, rule)}/dismiss`, {}),
  send: (pid: string, rule: string) => api.post<SendResult>(`${recall(pid, rule)}/send`),
  mark: (pid: string, id: string, outcome: 'contacted' | 'done', note?: string | null) => api.post<FollowUp>(followup(pid, id), { outcome, note: note || null }),
  sendFollowUp: (pid: string, id: string) => api.post<SendResult>(`${followup(pid, id)}/send`),
}

/** The last message sent or tried, for a list's "last sent" column. */
export function lastSent(items: Sent[] | undefined): Sent | null {
  return items && items.length ? items[items.length - 1] : null
}
