import { afterEach, describe, expect, it } from 'vitest'
import { failureReason, forgetImageUrls, stableUrls, type ImageOut } from './imaging'

const T0 = Date.parse('2026-11-26T10:00:00Z')
const iso = (ms: number) => new Date(ms).toISOString()

function image(id: string, sig: string, expiresMs: number, contentType = 'image/jpeg'): ImageOut {
  const r = (name: string) => ({ url: `https://s3.test/${id}/${name}?X-Amz-Signature=${sig}`, expires_at: iso(expiresMs), content_type: contentType })
  return {
    image_id: id, patient_id: 'P', kind: 'photo', status: 'ready', reason: null, category: null, xray_type: null, teeth: [],
    acquired_at: null, filename: 'a.jpg', width: 10, height: 10, created_at: iso(T0), urls: { thumb: r('thumb'), preview: r('preview') },
  }
}

describe('presigned URLs stay the same across reads, so the browser cache answers', () => {
  afterEach(forgetImageUrls)

  it('a second read of an image reuses the URLs of the first', () => {
    const first = stableUrls(image('I1', 'aaa', T0 + 3600_000), T0)
    const again = stableUrls(image('I1', 'bbb', T0 + 600_000 + 3600_000), T0 + 600_000)
    expect(again.urls.thumb.url).toBe(first.urls.thumb.url)
    expect(again.urls.preview.url).toContain('aaa')
  })

  it('a URL close to its expiry is replaced by the fresh one', () => {
    stableUrls(image('I1', 'aaa', T0 + 3600_000), T0)
    const late = T0 + 3600_000 - 60_000 // one minute left: too little for a slow gallery
    const again = stableUrls(image('I1', 'bbb', late + 3600_000), late)
    expect(again.urls.thumb.url).toContain('bbb')
    // ...and that fresh URL is the one reused afterwards
    expect(stableUrls(image('I1', 'ccc', late + 7200_000), late + 1000).urls.thumb.url).toContain('bbb')
  })

  it('other images, other renditions and a changed content type are never mixed up', () => {
    stableUrls(image('I1', 'aaa', T0 + 3600_000), T0)
    expect(stableUrls(image('I2', 'bbb', T0 + 3600_000), T0).urls.thumb.url).toBe('https://s3.test/I2/thumb?X-Amz-Signature=bbb')
    const png = stableUrls(image('I1', 'ccc', T0 + 3600_000, 'image/png'), T0)
    expect(png.urls.thumb.url).toContain('ccc')
  })

  it('sign-out forgets every URL', () => {
    stableUrls(image('I1', 'aaa', T0 + 3600_000), T0)
    forgetImageUrls()
    expect(stableUrls(image('I1', 'bbb', T0 + 3600_000), T0).urls.thumb.url).toContain('bbb')
  })
})

describe('failureReason', () => {
  const img = { reason: 'The file is truncated.', reason_es: 'El archivo está incompleto.' }
  it('says why in the app’s language, English when no Spanish was stored', () => {
    expect(failureReason(img, 'es')).toBe('El archivo está incompleto.')
    expect(failureReason(img, 'en')).toBe('The file is truncated.')
    expect(failureReason({ reason: 'Old reason', reason_es: null }, 'es')).toBe('Old reason')
    expect(failureReason({ reason: null }, 'es')).toBeUndefined()
  })
})
