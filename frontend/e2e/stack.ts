// Global setup: start the real local stack (moto + API + the BUILT SPA) on free ports with a
// throwaway STATE_DIR, wait for /api/v1/health, and stop it with SIGINT when the run ends.
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join, resolve } from 'node:path'

const FRONTEND = resolve(fileURLToPath(new URL('..', import.meta.url)))
const ROOT = resolve(FRONTEND, '..')
export const ARTIFACTS = join(ROOT, 'test-artifacts')

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer()
    s.unref()
    s.on('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => ok(port))
    })
  })
}

async function waitHealthy(url: string, proc: ReturnType<typeof spawn>, ms: number) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`local stack exited with ${proc.exitCode}; see test-artifacts/stack.log`)
    try {
      const r = await fetch(`${url}/api/v1/health`)
      if (r.ok) return
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`local stack not healthy after ${ms / 1000}s; see test-artifacts/stack.log`)
}

export default async function globalSetup() {
  mkdirSync(join(ARTIFACTS, 'screenshots'), { recursive: true })
  if (!existsSync(join(FRONTEND, 'dist', 'index.html'))) {
    const b = spawnSync('npm', ['run', 'build'], { cwd: FRONTEND, stdio: 'inherit' })
    if (b.status !== 0) throw new Error('npm run build failed')
  }
  if (process.env.E2E_BASE_URL) return // an already running stack
  const python = process.env.CUSPIDE_PYTHON ?? join(ROOT, '.venv', 'bin', 'python')
  const [port, motoPort] = [await freePort(), await freePort()]
  const stateDir = mkdtempSync(join(tmpdir(), 'cuspide-e2e-'))
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    // Never inherit a real AWS or stack configuration.
    if (v !== undefined && !k.startsWith('AWS_') && !k.startsWith('CUSPIDE_')) env[k] = v
  }
  for (const k of ['TABLE_NAME', 'MEDIA_BUCKET', 'EVENT_BUS_NAME', 'KMS_KEY_ALIAS', 'SIGNING_SECRET_NAME', 'MAIL_SENDER', 'QUEUE_NAMES', 'APP_URL', 'TRUSTED_PROXY_HOPS']) delete env[k]
  Object.assign(env, { PORT: String(port), MOTO_PORT: String(motoPort), STATE_DIR: stateDir, PYTHONUNBUFFERED: '1' })
  const log = openSync(join(ARTIFACTS, 'stack.log'), 'w')
  // E2E_STACK_ROOT: run the stack from another checkout (its frontend/dist must be this build).
  const stackRoot = process.env.E2E_STACK_ROOT ?? ROOT
  const proc = spawn(python, ['-m', 'infra.local', 'run'], { cwd: stackRoot, env, stdio: ['ignore', log, log] })
  const url = `http://127.0.0.1:${port}`
  try {
    // First start-up provisions and seeds the demo (about a minute, more on a busy machine).
    await waitHealthy(url, proc, 300_000)
  } catch (e) {
    proc.kill('SIGKILL')
    throw e
  }
  process.env.E2E_BASE_URL = url
  // The developer outbox (invitation and password links) opens with the key the runner prints
  // once it has started everything, a moment after the API answers.
  for (let i = 0; i < 120 && !process.env.E2E_OUTBOX_URL; i++) {
    const printed = readFileSync(join(ARTIFACTS, 'stack.log'), 'utf8').match(/Developer outbox[^:]*: (\S+)/)
    if (printed) process.env.E2E_OUTBOX_URL = printed[1]
    else await new Promise((r) => setTimeout(r, 500))
  }

  return async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGINT')
      const exited = await new Promise<boolean>((ok) => {
        const t = setTimeout(() => ok(false), 30_000)
        proc.once('exit', () => {
          clearTimeout(t)
          ok(true)
        })
      })
      if (!exited) proc.kill('SIGKILL')
    }
    rmSync(stateDir, { recursive: true, force: true })
  }
}
