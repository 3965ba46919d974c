/**
 * Pairs the checkpoint's TrackableObjectGraph (inside `_CHECKPOINTABLE_OBJECT_GRAPH`) with the
 * SavedModel's SavedObjectGraph the way TensorFlow's loader does (bundle_v2.cc RecurseObjectsToRestore):
 * from both roots, a checkpoint child pairs with the saved child of the same local name; slot variables
 * pair through their original variable and slot name. Node ids usually coincide, but the saved graph may
 * hold extra nodes (functions), so ids are never assumed equal.
 */
import type { SavedObjectMsg, TrackableObjectMsg } from './protos.js';

export interface ObjectGraphPairing {
  /** Saved-graph node id → checkpoint-graph node id. */
  checkpointOf: Map<number, number>;
  /** Checkpoint-graph node id → saved-graph node id. */
  savedOf: Map<number, number>;
}

export function pairObjectGraphs(saved: SavedObjectMsg[], checkpoint: TrackableObjectMsg[]): ObjectGraphPairing {
  const checkpointOf = new Map<number, number>();
  const savedOf = new Map<number, number>();
  if (saved.length === 0 || checkpoint.length === 0) return { checkpointOf, savedOf };
  const pair = (s: number, t: number): boolean => {
    if (savedOf.has(t) || checkpointOf.has(s)) return false;
    if (s < 0 || s >= saved.length || t < 0 || t >= checkpoint.length) return false;
    savedOf.set(t, s);
    checkpointOf.set(s, t);
    return true;
  };
  pair(0, 0);
  const queue: [number, number][] = [[0, 0]];
  for (let q = 0; q < queue.length; q++) {
    const [s, t] = queue[q];
    const savedChildren = new Map<string, number>();
    for (const c of saved[s].children ?? []) {
      const name = c.localName ?? '';
      if (!savedChildren.has(name)) savedChildren.set(name, c.nodeId ?? 0);
    }
    for (const c of checkpoint[t].children ?? []) {
      const sChild = savedChildren.get(c.localName ?? '');
      const tChild = c.nodeId ?? 0;
      if (sChild !== undefined && pair(sChild, tChild)) queue.push([sChild, tChild]);
    }
    for (const slot of checkpoint[t].slotVariables ?? []) {
      const original = savedOf.get(slot.originalVariableNodeId ?? 0);
      const match = (saved[s].slotVariables ?? []).find(
        (r) => r.slotName === slot.slotName && (r.originalVariableNodeId ?? 0) === original,
      );
      const sChild = match?.slotVariableNodeId ?? undefined;
      const tChild = slot.slotVariableNodeId ?? 0;
      if (sChild !== undefined && pair(sChild, tChild)) queue.push([sChild, tChild]);
    }
  }
  return { checkpointOf, savedOf };
}

/** Every node reachable from `start` through children (and slot variables), `start` included. */
export function reachable(nodes: { children?: { nodeId?: number }[]; slotVariables?: { slotVariableNodeId?: number }[] }[], start: number): Set<number> {
  const seen = new Set<number>([start]);
  const stack = [start];
  while (stack.length) {
    const id = stack.pop() as number;
    const n = nodes[id];
    if (!n) continue;
    const next = [...(n.children ?? []).map((c) => c.nodeId ?? 0), ...(n.slotVariables ?? []).map((r) => r.slotVariableNodeId ?? 0)];
    for (const c of next) {
      if (c >= 0 && c < nodes.length && !seen.has(c)) {
        seen.add(c);
        stack.push(c);
      }
    }
  }
  return seen;
}

/** The child of a node with this local name, if any. */
export function childNamed(node: { children?: { nodeId?: number; localName?: string }[] } | undefined, name: string): number | undefined {
  const c = node?.children?.find((r) => r.localName === name);
  return c ? (c.nodeId ?? 0) : undefined;
}
