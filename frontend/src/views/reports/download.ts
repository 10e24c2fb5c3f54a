// Saving a report's CSV (the summary's or a list's) with a toast that names the file or says
// why the server refused.
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { useToast } from 'primevue/usetoast'
import { apiMessage } from '@/api/http'
import { saveBlob } from '@/api/payments'

export function useCsvDownload() {
  const { t } = useI18n()
  const toast = useToast()
  const busy = ref(false)
  async function download(get: () => Promise<{ name: string; blob: Blob }>) {
    busy.value = true
    try {
      const { name, blob } = await get()
      saveBlob(blob, name)
      toast.add({ severity: 'success', summary: t('reports.export.done', { name }), life: 3000 })
    } catch (e) {
      toast.add({ severity: 'error', summary: apiMessage(e), life: 6000 })
    } finally {
      busy.value = false
    }
  }
  return { busy, download }
}
