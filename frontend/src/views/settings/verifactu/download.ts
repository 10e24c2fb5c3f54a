// Downloading the invoice book (GET /verifactu/book/issued and /book/records) with the
// session's token, part after part while the API answers `X-Next-Cursor`.
import { request } from '@/api/http'
import { bookFileName, type Period } from './period'

const BOM = [0xef, 0xbb, 0xbf]
/** A guard against a server that keeps naming a next part: far beyond any clinic's year. */
export const MAX_PARTS = 200

function startsWithBom(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === BOM[0] && b[1] === BOM[1] && b[2] === BOM[2]
}

/**
 * One CSV from the parts of the book, as bytes: the first part whole (its UTF-8 BOM, which
 * spreadsheets need to read accents, and its header row); of every later part, only the rows
 * after its own BOM and header. Bytes, not text: decoding would drop the BOM.
 */
export function joinCsvParts(parts: Uint8Array[]): Uint8Array {
  const pieces = parts.map((p, i) => {
    if (i === 0) return p
    let start = startsWithBom(p) ? 3 : 0
    const nl = p.indexOf(0x0a, start) // the header ends with CRLF; its cells hold no line break
    start = nl < 0 ? p.length : nl + 1
    return p.subarray(start)
  })
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of pieces) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export type BookKind = 'csv' | 'xml'
const PATH: Record<BookKind, string> = { csv: '/verifactu/book/issued', xml: '/verifactu/book/records' }

export interface BookPart { bytes: Uint8Array; nextCursor: string | null }

/** One part of the book: the API answers with a non-2xx as an ApiError (its message in the
 *  user's language). */
export async function fetchPart(kind: BookKind, p: Period, nif: string | null, cursor: string | null): Promise<BookPart> {
  const res = await request<Response>('GET', PATH[kind], { raw: true, query: { from: p.from, to: p.to, nif, cursor } })
  const bytes = new Uint8Array(await res.arrayBuffer())
  return { bytes, nextCursor: res.headers.get('X-Next-Cursor') || null }
}

/**
 * Every part of the period, in order, handed to `onPart` as it arrives (the XML parts are
 * saved one by one; the CSV parts are joined at the end). Returns how many parts there were.
 */
export async function eachPart(
  kind: BookKind,
  p: Period,
  nif: string | null,
  onPart: (part: BookPart, index: number) => void | Promise<void>,
  fetcher: typeof fetchPart = fetchPart,
): Promise<number> {
  let cursor: string | null = null
  const seen = new Set<string>()
  for (let i = 0; i < MAX_PARTS; i++) {
    const part = await fetcher(kind, p, nif, cursor)
    await onPart(part, i)
    if (!part.nextCursor) return i + 1
    if (seen.has(part.nextCursor)) throw new Error('the book named the same next part twice')
    seen.add(part.nextCursor)
    cursor = part.nextCursor
  }
  throw new Error(`the book has more than ${MAX_PARTS} parts`)
}

/** Hand a file to the browser as a download (an object URL on a temporary <a download>). */
export function saveFile(data: Uint8Array | string, type: string, name: string) {
  const blob = new Blob([data as BlobPart], { type })
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.rel = 'noopener'
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  a.remove()
  // Revoking at once can cut the download short in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

/** The CSV book of the period, all its parts in one file. Returns the file name and parts. */
export async function downloadCsv(p: Period, nif: string | null, fetcher: typeof fetchPart = fetchPart) {
  const parts: Uint8Array[] = []
  const n = await eachPart('csv', p, nif, (part) => void parts.push(part.bytes), fetcher)
  const name = bookFileName('csv', p, { nif })
  saveFile(joinCsvParts(parts), 'text/csv;charset=utf-8', name)
  return { name, parts: n }
}

/** The records as sent, one XML file per part (each is a whole RegFactuSistemaFacturacion
 *  document, valid on its own; numbered when there are several). Returns the file names. */
export async function downloadXml(p: Period, nif: string | null, fetcher: typeof fetchPart = fetchPart) {
  const names: string[] = []
  await eachPart('xml', p, nif, (part, i) => {
    const several = i > 0 || part.nextCursor !== null
    const name = bookFileName('xml', p, { nif, part: several ? i + 1 : undefined })
    saveFile(part.bytes, 'application/xml', name)
    names.push(name)
  }, fetcher)
  return { names }
}
