// Online booking settings (chalicelib/booking/routes.py; ADRs 1402, 1403): on/off, the types a
// patient can book online, how far ahead, notice, buffers, the pending cap, and the websites
// allowed to frame the page; the answer carries the public link and the widget snippet.
import { api } from './http'

export interface BookingType {
  type_id?: string | null; name_es: string; name_en: string; duration_min: number
  professional_ids: string[]; cabinet_ids: string[]; reason: string; colour: string | null; active: boolean
}
export interface BookingSettingsIn {
  enabled: boolean; horizon_days: number; min_notice_hours: number; buffer_min: number; max_pending: number
  types: BookingType[]; embed_origins: string[]
}
export interface BookingSettings extends BookingSettingsIn { public_url: string; widget_snippet: string; version: number }

export const bookingApi = {
  settings: () => api.get<BookingSettings>('/booking/settings'),
  save: (body: BookingSettingsIn) => api.put<BookingSettings>('/booking/settings', body),
}
