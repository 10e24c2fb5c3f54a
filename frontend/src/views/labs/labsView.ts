// Small pure helpers of the lab screens.
import type { CaseStatus } from '@/api/labs'

export function statusSeverity(s: CaseStatus): 'secondary' | 'info' | 'warn' | 'success' | 'danger' | 'contrast' {
  switch (s) {
    case 'draft': return 'secondary'
    case 'sent': case 'in_progress': return 'info'
    case 'shipped': return 'warn'
    case 'received': case 'fitted': return 'success'
    default: return 'danger'
  }
}
