import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, setAuthHooks } from '@/api/http'
import { downloadCsv, downloadXml, eachPart, fetchPart, joinCsvParts, type BookPart } from './download'

const enc = new TextEncoder()
const BOM = '\ufeff'
const HEADER = 'Fecha expedición;Serie-número;Total factura\r\n'
const bytes = (s: string) => enc.encode(s)
const text = (b: Uint8Array) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(b)
/** jsdom's Blob has no arrayBuffer(): read it as a browser of old would. */
const read = (blob: Blob) =>
  new Promise<Uint8Array>((ok, fail) => {
    const r = new FileReader()
    r.onload = () => ok(new Uint8Array(r.result as ArrayBuffer))
    r.onerror = () => fail(r.error)
    r.readAsArrayBuffer(blob)
  })

afterEach(() => {
  vi.unstubAllGlobals()
  setAuthHooks(null)
})

describe('joining the parts of the CSV book', () => {
  it('keeps the BOM and header of the first part only', () => {
    const a = bytes(`${BOM}${HEADER}02/12/2026;F-1;10,00\r\n02/12/2026;F-2;20,00\r\n`)
    const b = bytes(`${BOM}${HEADER}03/12/2026;F-3;30,00\r\n`)
    const c = bytes(`${BOM}${HEADER}04/12/2026;F-4;40,00\r\n`)
    const out = text(joinCsvParts([a, b, c]))
    expect(out).toBe(`${BOM}${HEADER}02/12/2026;F-1;10,00\r\n02/12/2026;F-2;20,00\r\n03/12/2026;F-3;30,00\r\n04/12/2026;F-4;40,00\r\n`)
    expect(out.match(/Fecha expedición/g)).toHaveLength(1)
  })

  it('one part is left as it is; a later part with no rows adds nothing', () => {
    const a = bytes(`${BOM}${HEADER}02/12/2026;F-1;10,00\r\n`)
    expect([...joinCsvParts([a])]).toEqual([...a])
    expect(text(joinCsvParts([a, bytes(`${BOM}${HEADER}`)]))).toBe(text(a))
    expect(text(joinCsvParts([a, bytes('')]))).toBe(text(a))
  })

  it('works on bytes: accents split anywhere survive, the BOM is not decoded away', () => {
    const a = bytes(`${BOM}${HEADER}02/12/2026;Fernández;1,00\r\n`)
    const joined = joinCsvParts([a, bytes(`${BOM}${HEADER}03/12/2026;Muñoz;2,00\r\n`)])
    expect([...joined.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    expect(text(joined)).toContain('Muñoz')
  })
})

describe('following X-Next-Cursor', () => {
  it('asks for each part with the cursor of the previous one', async () => {
    const cursors: (string | null)[] = []
    const answers: BookPart[] = [
      { bytes: bytes('1'), nextCursor: 'c1' },
      { bytes: bytes('2'), nextCursor: 'c2' },
      { bytes: bytes('3'), nextCursor: null },
    ]
    const got: string[] = []
    const n = await eachPart('csv', { from: '2026-01-01', to: '2026-12-31' }, null, (p) => void got.push(text(p.bytes)), async (_k, _p, _n, cursor) => {
      cursors.push(cursor)
      return answers.shift()!
    })
    expect(n).toBe(3)
    expect(cursors).toEqual([null, 'c1', 'c2'])
    expect(got).toEqual(['1', '2', '3'])
  })

  it('stops when the server names the same part twice', async () => {
    const fetcher = vi.fn(async () => ({ bytes: bytes('x'), nextCursor: 'same' }))
    await expect(eachPart('xml', { from: '2026-01-01', to: '2026-01-31' }, null, () => undefined, fetcher)).rejects.toThrow(/same next part/)
    expect(fetcher).toHaveBeenCalledTimes(2)
  })
})

describe('fetching a part', () => {
  it('sends the auth header, the period, the NIF and the cursor, and reads X-Next-Cursor', async () => {
    setAuthHooks({ accessToken: async () => 'T1', refreshAfter401: async () => null, sessionLost: () => undefined, language: () => 'es' })
    const fetch = vi.fn(async () => new Response(bytes(`${BOM}${HEADER}`), { status: 200, headers: { 'Content-Type': 'text/csv', 'X-Next-Cursor': 'next!' } }))
    vi.stubGlobal('fetch', fetch)
    const part = await fetchPart('csv', { from: '2026-10-01', to: '2026-12-31' }, 'B12345674', 'c1')
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/verifactu/book/issued?from=2026-10-01&to=2026-12-31&nif=B12345674&cursor=c1')
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer T1')
    expect(part.nextCursor).toBe('next!')
    expect([...part.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
  })

  it("a refusal is an ApiError with the API's message", async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ data: null, message: 'No hay registros', code: 'VERIFACTU_NO_RECORDS', errors: [] }), { status: 404 })))
    const e = await fetchPart('xml', { from: '2025-01-01', to: '2025-12-31' }, null, null).catch((x) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ status: 404, code: 'VERIFACTU_NO_RECORDS', message: 'No hay registros' })
  })
})

describe('saving', () => {
  function capture() {
    const saved: { name: string; blob: Blob }[] = []
    const blobs = new Map<string, Blob>()
    vi.stubGlobal('URL', Object.assign(URL, {
      createObjectURL: vi.fn((b: Blob) => {
        const u = `blob:${blobs.size}`
        blobs.set(u, b)
        return u
      }),
      revokeObjectURL: vi.fn(),
    }))
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push({ name: this.download, blob: blobs.get(this.getAttribute('href')!)! })
    })
    return saved
  }
  const q4 = { from: '2026-10-01', to: '2026-12-31' }

  it('the CSV parts become one file named after the period', async () => {
    const saved = capture()
    const parts = [
      { bytes: bytes(`${BOM}${HEADER}a\r\n`), nextCursor: 'c1' },
      { bytes: bytes(`${BOM}${HEADER}b\r\n`), nextCursor: null },
    ]
    const r = await downloadCsv(q4, null, async () => parts.shift()!)
    expect(r).toEqual({ name: 'libro-facturas-expedidas-2026-T4.csv', parts: 2 })
    expect(saved).toHaveLength(1)
    expect(saved[0]!.name).toBe('libro-facturas-expedidas-2026-T4.csv')
    expect(text(await read(saved[0]!.blob))).toBe(`${BOM}${HEADER}a\r\nb\r\n`)
  })

  it('each XML part is its own numbered file; a single part is not numbered', async () => {
    const saved = capture()
    const parts = [
      { bytes: bytes('<a/>'), nextCursor: 'c1' },
      { bytes: bytes('<b/>'), nextCursor: null },
    ]
    await downloadXml(q4, null, async () => parts.shift()!)
    expect(saved.map((s) => s.name)).toEqual(['registros-verifactu-2026-T4-parte-1.xml', 'registros-verifactu-2026-T4-parte-2.xml'])
    expect(text(await read(saved[1]!.blob))).toBe('<b/>')
    await downloadXml(q4, null, async () => ({ bytes: bytes('<c/>'), nextCursor: null }))
    expect(saved[2]!.name).toBe('registros-verifactu-2026-T4.xml')
  })
})
