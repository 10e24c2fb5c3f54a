import { onBeforeUnmount, onMounted } from 'vue'
import { useLive } from '@/stores/live'
import type { LiveEvent } from './client'

/**
 * Call `refresh` when a live event concerns this screen (`when(ev)`), coalescing a burst into
 * one call `delayMs` after the last event, and after the connection comes back from a loss
 * (events may have been missed meanwhile).
 */
export function useLiveRefresh(when: (ev: LiveEvent) => boolean, refresh: () => void, delayMs = 400) {
  const live = useLive()
  let timer: ReturnType<typeof setTimeout> | undefined
  let off: (() => void) | null = null
  const later = () => {
    clearTimeout(timer)
    timer = setTimeout(refresh, delayMs)
  }
  onMounted(() => {
    off = live.subscribe((ev) => when(ev) && later(), later)
  })
  onBeforeUnmount(() => {
    clearTimeout(timer)
    off?.()
  })
}
