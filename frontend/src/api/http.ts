// A small fetch client for the API envelope: {"data": ..., "message": null} on success,
// {"data": null, "message", "code", "errors": [{field, message}]} on failure.

export interface FieldError { field: string; message: string }

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public errors: FieldError[] = [],
    public data: unknown = null,
    /** Seconds the server asked us to wait (429/503 `Retry-After`), when it said. */
    public retryAfter: number | null = null,
  ) {
    super(message)
    this.name = 'ApiError'
  }
  /** Field errors keyed by the last segment of their path ("address.city" -> "address.city"). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const e of this.errors) if (e.field && !out[e.field]) out[e.field] = e.message
    return out
  }
}

/** What the client needs from the session: a valid token, a way to refresh, a way to end. */
export interface AuthHooks {
  accessToken(): Promise<string | null>
  refreshAfter401(): Promise<string | null>
  sessionLost(code: string): void
  language(): string
}

let hooks: AuthHooks | null = null
export function setAuthHooks(h: AuthHooks | null) {
  hooks = h
}

export const API_BASE = '/api/v1'
const SESSION_LOST = new Set(['SESSION_REVOKED', 'INVALID_TOKEN', 'UNAUTHENTICATED', 'UNAUTHORIZED'])

export interface RequestOptions {
  query?: Record<string, string | number | boolean | null | undefined>
  body?: unknown
  auth?: boolean // default true
  signal?: AbortSignal
  raw?: boolean // return the Response (CSV export)
  accept?: string // the Accept header, default JSON (a PDF route needs 'application/pdf': Chalice answers 400 to a binary body not accepted)
  token?: string | null // use this access token instead of asking the session
}

function url(path: string, query?: RequestOptions['query']): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const qs = q.toString()
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`
}

async function parse(res: Response): Promise<unknown> {
  if (res.status === 204) return null
  const text = await res.text()
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {
    return { data: null, message: text }
  }
}

async function send(method: string, path: string, opts: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' }
  if (hooks) headers['Accept-Language'] = hooks.language()
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
  if (token) headers.Authorization = `Bearer ${token}`
  return fetch(url(path, opts.query), {
    method,
    headers,
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    signal: opts.signal,
  })
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const useAuth = opts.auth !== false && hooks !== null
  let token = !useAuth ? null : opts.token !== undefined ? opts.token : await hooks!.accessToken()
  let res: Response
  try {
    res = await send(method, path, opts, token)
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    throw new ApiError(0, 'NETWORK', 'network')
  }
  if (res.status === 401 && token && hooks) {
    const code = ((await parse(res.clone())) as { code?: string } | null)?.code ?? ''
    if (code === 'TOKEN_EXPIRED') {
      token = await hooks.refreshAfter401()
      if (token) res = await send(method, path, opts, token)
    } else if (SESSION_LOST.has(code)) {
      // A token this tab no longer holds (a clinic switch, here or in another tab, replaced
      // it while the request was in flight) is stale, not revoked: retry once with the
      // current one. Only a 401 for the current token ends the session.
      const current = await hooks.accessToken()
      if (current && current !== token) {
        token = current
        res = await send(method, path, opts, token)
      }
    }
  }
  if (opts.raw && res.ok) return res as unknown as T
  const body = (await parse(res)) as { data?: unknown; message?: string; code?: string; errors?: FieldError[] } | null
  if (!res.ok) {
    const code = body?.code ?? `HTTP_${res.status}`
    if (res.status === 401 && token && hooks && SESSION_LOST.has(code)) hooks.sessionLost(code)
    throw new ApiError(res.status, code, body?.message ?? res.statusText, body?.errors ?? [], body?.data ?? null, retryAfterSeconds(res.headers.get('Retry-After')))
  }
  return (body && typeof body === 'object' && 'data' in body ? body.data : body) as T
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body }),
  del: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
}

/** `Retry-After` as seconds: a delay in seconds or an HTTP date (RFC 9110, section 10.2.3). */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | null {
  if (!value) return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000))
}

/** What the API said when it refused, for a person: a 422's field messages say more than its summary. */
export function apiMessage(e: unknown): string {
  if (e instanceof ApiError) {
    const details = e.errors.map((x) => x.message).filter(Boolean)
    return details.length ? details.join(' ') : e.message
  }
  return e instanceof Error ? e.message : String(e)
}
