import { describe, expect, it } from 'vitest'
import { clientCommands, lines, pageOf } from './bridge'

describe('Bridge API helpers', () => {
  it('the two commands that set the client up', () => {
    expect(clientCommands('https://app.cuspide.es/', 'cbk_abc.def')).toEqual([
      'cuspide-bridge configure --api-url https://app.cuspide.es/api/v1 --key cbk_abc.def',
      'cuspide-bridge run',
    ])
  })

  it('folders and patterns typed one per line', () => {
    expect(lines(' C:\\Scans, 2026 \r\n\n*.dcm\nIMG_*.jpg\n*.dcm')).toEqual(['C:\\Scans, 2026', '*.dcm', 'IMG_*.jpg'])
    expect(lines('')).toEqual([])
  })

  it('a list answer, paged or bare', () => {
    expect(pageOf([1, 2])).toEqual({ items: [1, 2], next_cursor: null })
    expect(pageOf({ items: [1], next_cursor: 'c' })).toEqual({ items: [1], next_cursor: 'c' })
    expect(pageOf(null)).toEqual({ items: [], next_cursor: null })
  })
})
