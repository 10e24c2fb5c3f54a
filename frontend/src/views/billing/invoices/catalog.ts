// The treatment catalog and VAT types the invoice forms offer, read once per page load.
import { invoicesApi, type TreatmentOut, type VatTypeOut } from '@/api/invoices'

let cache: Promise<{ treatments: TreatmentOut[]; vatTypes: VatTypeOut[] }> | null = null

export function loadCatalog(): Promise<{ treatments: TreatmentOut[]; vatTypes: VatTypeOut[] }> {
  cache ??= Promise.all([invoicesApi.treatments(), invoicesApi.vatTypes()])
    .then(([p, v]) => ({ treatments: p.items.filter((x) => x.active), vatTypes: v }))
    .catch((e) => {
      cache = null
      throw e
    })
  return cache
}
