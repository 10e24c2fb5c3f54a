// Permission keys are dot-notation (`patients.medical.read`). /auth/me returns the concrete keys
// the user has; grants in role templates may use wildcards (`patients.*`, `*`).
import type { PermissionNode } from '@/api/types'

export function matches(grant: string, key: string): boolean {
  if (grant === '*' || grant === key) return true
  return grant.endsWith('.*') && key.startsWith(grant.slice(0, -1))
}

/** True when `perms` grants `required`: one key, or any of a list (`anyOf`). */
export function can(perms: readonly string[] | Set<string>, required?: string | string[] | null): boolean {
  if (!required || (Array.isArray(required) && required.length === 0)) return true
  const list = Array.isArray(required) ? required : [required]
  const arr = perms instanceof Set ? [...perms] : perms
  return list.some((r) => arr.some((g) => matches(g, r)))
}

export interface Gated { permission?: string | string[] }
/** Keep only what the user may see (navigation items, actions, tabs). */
export function visible<T extends Gated>(perms: readonly string[], items: T[]): T[] {
  return items.filter((i) => can(perms, i.permission))
}

// ---- the permission tree of the role editor ----

export type CheckState = 'checked' | 'unchecked' | 'partial'

export function leaves(node: PermissionNode): string[] {
  return node.children ? node.children.flatMap(leaves) : [node.key]
}

export function allLeaves(tree: PermissionNode[]): string[] {
  return tree.flatMap(leaves)
}

/** Expand grants (with wildcards) to the set of leaf keys they cover. */
export function expandGrants(grants: readonly string[], tree: PermissionNode[]): Set<string> {
  return new Set(allLeaves(tree).filter((k) => grants.some((g) => matches(g, k))))
}

export function nodeState(node: PermissionNode, selected: Set<string>): CheckState {
  const ls = leaves(node)
  const n = ls.filter((k) => selected.has(k)).length
  return n === 0 ? 'unchecked' : n === ls.length ? 'checked' : 'partial'
}

/** Toggle a node: a checked or partial node clears its subtree, an unchecked one fills it. */
export function toggle(node: PermissionNode, selected: Set<string>): Set<string> {
  const out = new Set(selected)
  const ls = leaves(node)
  if (nodeState(node, selected) === 'unchecked') ls.forEach((k) => out.add(k))
  else ls.forEach((k) => out.delete(k))
  return out
}

/** Compress a set of leaves back to grants: a fully selected group becomes `group.*`. */
export function compressGrants(selected: Set<string>, tree: PermissionNode[]): string[] {
  const all = allLeaves(tree)
  if (all.length > 0 && all.every((k) => selected.has(k))) return ['*']
  const out: string[] = []
  const walk = (nodes: PermissionNode[]) => {
    for (const n of nodes) {
      if (!n.children) {
        if (selected.has(n.key)) out.push(n.key)
        continue
      }
      const st = nodeState(n, selected)
      if (st === 'checked') out.push(n.key)
      else if (st === 'partial') walk(n.children)
    }
  }
  walk(tree)
  return out
}
