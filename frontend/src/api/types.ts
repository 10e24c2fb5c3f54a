// Shapes of the API (chalicelib/*/schemas.py). Only what the SPA reads.
export type Role = 'admin' | 'dentist' | 'hygienist' | 'assistant' | 'receptionist'
export const ROLES: Role[] = ['admin', 'dentist', 'hygienist', 'assistant', 'receptionist']

export interface UserOut { user_id: string; email: string; name: string; language: string }
export interface Branding { logo_url: string | null; color: string }
export interface Address {
  line1: string; line2?: string | null; city: string; postal_code: string; province?: string | null; country?: string
}
export interface ClinicOut {
  clinic_id: string; name: string; legal_name: string | null; tax_id: string | null
  address: Address | null; country: string; time_zone: string; currency: string; language: string
  plan: 'free' | 'pro' | 'pro_plus'; branding: Branding | null; created_at: string
}
export interface ClinicChoice { clinic_id: string; name: string; role: Role }
export interface TokensOut {
  access_token: string; token_type: 'Bearer'; expires_in: number; refresh_token: string
  refresh_expires_in: number; user: UserOut; clinic: ClinicOut; role: Role; clinics: ClinicChoice[]
}
export interface MeOut {
  user: UserOut; clinic: ClinicOut; role: Role; plan: string; permissions: string[]
  clinics: ClinicChoice[]; session_id: string
}
export interface MemberOut {
  user_id: string; email: string; name: string; role: Role; status: 'active' | 'deactivated'
  is_professional: boolean; joined_at: string
}
export interface InvitationPreview {
  clinic_name: string; email: string; role: Role; valid_until: string; existing_account: boolean
}
export interface InvitationOut {
  invitation_id: string; email: string; name: string | null; role: Role; is_professional: boolean
  status: 'pending' | 'accepted' | 'revoked' | 'expired'; created_at: string; valid_until: string
}
export interface RoleOut { role: Role; grants: string[]; customized: boolean; effective_permissions: string[] }
export interface PermissionNode { key: string; label: string; children?: PermissionNode[] }
export interface Page<T> { items: T[]; next_cursor: string | null }
