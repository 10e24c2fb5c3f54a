// The password policy as the server applies it (chalicelib/core/auth.py check_password_policy),
// shown to the person choosing one while they type. The server has the last word: its list of
// common passwords is not shipped to the browser, so "too simple" here only checks variety.
export const MIN_PASSWORD = 10

export interface PolicyCheck { key: 'length' | 'notEmail' | 'variety'; ok: boolean }

export function passwordChecks(password: string, email: string): PolicyCheck[] {
  return [
    { key: 'length', ok: password.length >= MIN_PASSWORD && password.length <= 256 },
    { key: 'notEmail', ok: password.length > 0 && password.toLowerCase() !== email.toLowerCase() },
    { key: 'variety', ok: new Set(password).size >= 4 },
  ]
}

/** A form rule: the password meets every check shown (the email read when the rule runs). */
export const meetsPolicy = (email: () => string) => (v: unknown) =>
  passwordChecks(String(v ?? ''), email()).every((c) => c.ok) ? null : { key: 'invite.policyNotMet' }
