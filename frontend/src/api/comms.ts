// Communications (chalicelib/comms/routes.py): settings, consents, messages, the WhatsApp
// conversations and the clinic's WhatsApp connection.
import { api } from './http'
import type { Page } from './types'

export type Channel = 'email' | 'whatsapp'
export const CHANNELS: Channel[] = ['email', 'whatsapp']
export type TemplateKind = 'booking' | 'reminder' | 'reschedule' | 'cancellation' | 'missed'
export const TEMPLATE_KINDS: TemplateKind[] = ['booking', 'reminder', 'reschedule', 'cancellation', 'missed']

export interface CommsSettings {
  reminder_leads_min: number[]
  reminder_channels: Channel[]
  eod_enabled: boolean
  eod_recipients: string[] | null
  eod_time: string
  updated_at: string | null
}
export type CommsSettingsIn = Omit<CommsSettings, 'updated_at'>

export interface ConsentEntry { granted: boolean; source: string; at: string; by: string; by_name?: string | null }
export interface Consent {
  channel: Channel; granted: boolean; source: string | null; at: string | null; by: string | null; by_name: string | null
  history: ConsentEntry[]
}

export interface Message {
  message_id: string; patient_id: string | null; appointment_id: string | null
  channel: 'email' | 'whatsapp' | 'none'; direction: 'in' | 'out'
  kind: string; status: string; subject: string | null; text: string | null
  error: { code?: string | number | null; message?: string | null } | null
  status_history: { status: string; at: string }[]
  created_at: string; updated_at: string
}

export interface Conversation {
  patient_id: string; patient_name: string | null
  last_inbound_at: string | null; last_activity_at: string
  unread: number; window_open: boolean; window_closes_at: string | null
  last_text: string | null; last_direction: 'in' | 'out' | null
}

export interface WhatsAppConnection {
  connected: boolean; phone_number_id: string | null; waba_id: string | null; display_phone_number: string | null
  access_token: string | null; app_secret: string | null; verify_token: string | null
  status: 'disconnected' | 'unverified' | 'connected' | 'error'
  last_error: { code?: number; message?: string; at?: string } | null
  last_tested_at: string | null; webhook_url: string | null; updated_at: string | null
}
export interface WhatsAppIn { phone_number_id: string; waba_id: string; access_token: string; app_secret: string; verify_token: string }

export const commsApi = {
  settings: () => api.get<CommsSettings>('/comms/settings'),
  saveSettings: (body: CommsSettingsIn) => api.put<CommsSettings>('/comms/settings', body),
  consents: (pid: string) => api.get<Consent[]>(`/comms/patients/${pid}/consents`),
  setConsent: (pid: string, channel: Channel, granted: boolean, source: string) =>
    api.put<Consent>(`/comms/patients/${pid}/consents/${channel}`, { granted, source }),
  patientMessages: (pid: string, cursor?: string | null, limit = 25) =>
    api.get<Page<Message>>(`/comms/patients/${pid}/messages`, { query: { cursor, limit } }),
  conversations: (cursor?: string | null) => api.get<Page<Conversation>>('/comms/conversations', { query: { cursor, limit: 50 } }),
  markRead: (pid: string) => api.post<null>(`/comms/patients/${pid}/whatsapp/read`),
  reply: (pid: string, text: string) => api.post<Message>(`/comms/patients/${pid}/whatsapp/reply`, { text }),
  template: (pid: string, kind: TemplateKind, appointmentId: string) =>
    api.post<Message>(`/comms/patients/${pid}/whatsapp/template`, { kind, appointment_id: appointmentId }),
  whatsapp: () => api.get<WhatsAppConnection>('/comms/whatsapp'),
  connect: (body: WhatsAppIn) => api.put<WhatsAppConnection>('/comms/whatsapp', body),
  test: () => api.post<WhatsAppConnection>('/comms/whatsapp/test'),
  disconnect: () => api.del<null>('/comms/whatsapp'),
}
