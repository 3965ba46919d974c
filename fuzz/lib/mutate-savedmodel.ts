/**
 * SavedModel folder mutations: the variables.index table rewritten with bad block handles (offsets and
 * sizes past the data, in the footer or the index block), unknown block types, keys dropped,
 * duplicated or out of order, and bundle entries whose offset, size, shard, dtype, shape or CRC lie;
 * the protobufs (saved_model.pb, keras_metadata.pb) with dangling node references and mutated Keras
 * metadata JSON; and format-blind byte mutations of any file. Rewritten tables carry correct block
 * CRCs, so the checks past them are reached.
 */
import { crc32c, crc32cUpdate, maskCrc } from '../../src/readers/savedmodel/crc32c.js';
import { type MessageName, decodeMessage, encodeMessage } from '../../src/readers/savedmodel/protos.js';
import { type TableEntry, readTable } from '../../src/readers/savedmodel/sstable.js';
import { mutateBytes } from './mutate-bytes.js';
import { mutateJson } from './mutate-json.js';
import type { Rng } from './rng.js';

const enc = new TextEncoder();

function varint(n: number): number[] {
  const out: number[] = [];
  let v = Math.max(0, Math.floor(n));
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** A block with every key written whole (one restart point per entry). */
function block(entries: [Uint8Array, Uint8Array][]): Uint8Array {
  const parts: number[] = [];
  const restarts: number[] = [];
  for (const [k, v] of entries) {
    restarts.push(parts.length);
    parts.push(...varint(0), ...varint(k.length), ...varint(v.length), ...k, ...v);
  }
  if (!restarts.length) restarts.push(0);
  return Uint8Array.from([...parts, ...restarts.flatMap(u32), ...u32(restarts.length)]);
}

interface TableLies {
  /** Applied to the data block handles written into the index block. */
  dataHandle?: (h: { offset: number; size: number }) => { offset: number; size: number };
  /** Applied to the index handle written into the footer. */
  indexHandle?: (h: { offset: number; size: number }) => { offset: number; size: number };
  blockType?: number;
  perBlock?: number;
}

/** A table in TF's layout (data blocks, empty metaindex, index, 48-byte footer), CRCs correct. */
function writeTable(entries: [Uint8Array, Uint8Array][], lies: TableLies = {}): Uint8Array {
  const out: number[] = [];
  const put = (contents: Uint8Array, type = 0) => {
    const offset = out.length;
    const crc = maskCrc(crc32cUpdate(crc32c(contents), Uint8Array.of(type)));
    out.push(...contents, type, ...u32(crc));
    return { offset, size: contents.length };
  };
  const index: [Uint8Array, Uint8Array][] = [];
  const per = lies.perBlock ?? 4;
  for (let i = 0; i < entries.length; i += per) {
    const chunk = entries.slice(i, i + per);
    let h = put(block(chunk), lies.blockType ?? 0);
    if (lies.dataHandle) h = lies.dataHandle(h);
    index.push([chunk[chunk.length - 1][0], Uint8Array.from([...varint(h.offset), ...varint(h.size)])]);
  }
  const meta = put(block([]));
  let ih = put(block(index));
  if (lies.indexHandle) ih = lies.indexHandle(ih);
  const footer = new Uint8Array(48);
  footer.set([...varint(meta.offset), ...varint(meta.size), ...varint(ih.offset), ...varint(ih.size)]);
  footer.set([...u32(0x8b80fb57), ...u32(0xdb477524)], 40);
  return Uint8Array.from([...out, ...footer]);
}

function absurdHandle(rng: Rng, h: { offset: number; size: number }): { offset: number; size: number } {
  return rng.pick([
    { offset: h.offset + 1, size: h.size },
    { offset: h.offset, size: h.size + 1 },
    { offset: 2 ** 40, size: h.size },
    { offset: h.offset, size: 2 ** 40 },
    { offset: 0, size: 0 },
    { offset: 2 ** 53 - 1, size: 2 ** 53 - 1 },
    { offset: Math.max(0, h.offset - 5), size: h.size },
  ]);
}

export interface SavedModelMutation {
  name: string;
  files: Map<string, Uint8Array>;
  /** A checksummed byte or field changed without its checksum: a read must fail or see the same model. */
  raw: boolean;
}

function mutateEntry(rng: Rng, value: Uint8Array): { value: Uint8Array; what: string; raw: boolean } {
  const e = decodeMessage('BundleEntryProto', value) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : Number((v as { low?: number })?.low ?? 0));
  const field = rng.pick(['offset', 'size', 'shardId', 'dtype', 'shape', 'crc32c', 'slices'] as const);
  switch (field) {
    case 'offset':
      e.offset = rng.pick([num(e.offset) + 1, num(e.offset) + 4, 2 ** 40, 2 ** 31, 0]);
      break;
    case 'size':
      e.size = rng.pick([num(e.size) + 4, Math.max(0, num(e.size) - 4), 0, 2 ** 40, 2 ** 31]);
      break;
    case 'shardId':
      e.shardId = rng.pick([1, 2, 99, 2 ** 31 - 1]);
      break;
    case 'dtype':
      e.dtype = rng.pick([0, 2, 3, 7, 9, 14, 19, 20, 101, 999]);
      break;
    case 'shape':
      e.shape = rng.pick([{ dim: [{ size: 2 ** 31 }, { size: 2 ** 31 }] }, { dim: [{ size: -1 }] }, { unknownRank: true }, { dim: [] }, { dim: [{ size: 1 }, { size: 1 }, { size: 1 }] }]);
      break;
    case 'crc32c':
      e.crc32c = (num(e.crc32c) ^ (1 << rng.int(32))) >>> 0;
      break;
    default:
      e.slices = [{ extent: [{ start: 0, length: 1 }] }];
  }
  // Offsets, sizes and shards that move the bytes read under the same CRC must be caught by it.
  const raw = field === 'offset' || field === 'size' || field === 'shardId' || field === 'crc32c';
  try {
    return { value: encodeMessage('BundleEntryProto', e), what: `entry.${field}`, raw };
  } catch {
    return { value: Uint8Array.from([...value, 0xff]), what: 'entry.garbage', raw: false };
  }
}

function mutateIndex(rng: Rng, bytes: Uint8Array): { name: string; bytes: Uint8Array; raw: boolean } | undefined {
  let entries: TableEntry[];
  try {
    entries = readTable(bytes, { file: 'variables.index' });
  } catch {
    return undefined;
  }
  const raw = entries.map((e) => [enc.encode(e.key), e.value] as [Uint8Array, Uint8Array]);
  const op = rng.int(8);
  if (op === 0) return { name: 'sstable:data-handle', bytes: writeTable(raw, { dataHandle: (h) => (rng.chance(0.5) ? absurdHandle(rng, h) : h) }), raw: false };
  if (op === 1) return { name: 'sstable:index-handle', bytes: writeTable(raw, { indexHandle: (h) => absurdHandle(rng, h) }), raw: false };
  if (op === 2) return { name: 'sstable:block-type', bytes: writeTable(raw, { blockType: rng.pick([1, 2, 255]) }), raw: false };
  if (op === 3) {
    const i = rng.int(raw.length);
    const how = rng.int(3);
    if (how === 0) raw.splice(i, 1);
    else if (how === 1) raw.splice(i, 0, raw[i]);
    else raw.reverse();
    return { name: `sstable:${['drop-key', 'duplicate-key', 'keys-out-of-order'][how]}`, bytes: writeTable(raw), raw: false };
  }
  if (op === 4) {
    // The bundle header: shard count, endianness.
    const h = raw.find(([k]) => k.length === 0);
    if (!h) return undefined;
    const header = decodeMessage('BundleHeaderProto', h[1]) as Record<string, unknown>;
    if (rng.chance(0.5)) header.numShards = rng.pick([0, 1, 3, 99, 2 ** 31 - 1]);
    else header.endianness = 1;
    h[1] = encodeMessage('BundleHeaderProto', header);
    return { name: 'sstable:bundle-header', bytes: writeTable(raw), raw: false };
  }
  const candidates = raw.filter(([k]) => k.length > 0 && !/_CHECKPOINTABLE_OBJECT_GRAPH/.test(new TextDecoder().decode(k)));
  if (!candidates.length) return undefined;
  const target = rng.pick(candidates);
  const m = mutateEntry(rng, target[1]);
  target[1] = m.value;
  return { name: `sstable:${m.what}`, bytes: writeTable(raw, { perBlock: rng.pick([1, 3, 100]) }), raw: m.raw };
}

function mutateProto(rng: Rng, file: string, bytes: Uint8Array): { name: string; bytes: Uint8Array } | undefined {
  const kind: MessageName = file === 'keras_metadata.pb' ? 'SavedMetadata' : 'SavedModel';
  let msg: Record<string, unknown>;
  try {
    msg = decodeMessage(kind as 'SavedModel', bytes) as unknown as Record<string, unknown>;
  } catch {
    return undefined;
  }
  let name: string;
  if (kind === 'SavedMetadata') {
    const nodes = (msg.nodes ?? []) as Record<string, unknown>[];
    if (!nodes.length) return undefined;
    const n = rng.pick(nodes);
    const op = rng.int(4);
    if (op <= 1 && typeof n.metadata === 'string') {
      const m = mutateJson(rng, JSON.parse(n.metadata));
      n.metadata = m.text;
      name = `keras_metadata:${m.name}`;
    } else if (op === 2) {
      n.nodeId = rng.pick([0, 1, 999, 2 ** 31 - 1]);
      name = 'keras_metadata:node-id';
    } else {
      nodes.push({ ...n });
      name = 'keras_metadata:duplicate-node';
    }
  } else {
    const graphs = (msg.metaGraphs ?? []) as { objectGraphDef?: { nodes?: Record<string, unknown>[] } }[];
    const nodes = graphs[0]?.objectGraphDef?.nodes ?? [];
    if (!nodes.length) return undefined;
    const n = rng.pick(nodes);
    const op = rng.int(4);
    if (op === 0 && Array.isArray(n.children) && n.children.length) {
      const ref = rng.pick(n.children as Record<string, unknown>[]);
      ref.nodeId = rng.pick([0, nodes.indexOf(n), nodes.length, 999, 2 ** 31 - 1]);
      name = 'saved_model:child-ref';
    } else if (op === 1 && n.variable) {
      (n.variable as Record<string, unknown>).shape = rng.pick([{ dim: [{ size: 2 ** 31 }, { size: 2 ** 31 }] }, { dim: [{ size: -1 }] }, { unknownRank: true }]);
      name = 'saved_model:variable-shape';
    } else if (op === 2) {
      nodes.splice(rng.int(nodes.length), 1);
      name = 'saved_model:drop-node';
    } else {
      n.userObject = { identifier: rng.pick(['_tf_keras_model', '_tf_keras_layer', '_tf_keras_sequential', 'trackable_list_wrapper', '']) };
      name = 'saved_model:identifier';
    }
  }
  try {
    return { name, bytes: encodeMessage(kind, msg) };
  } catch {
    return undefined;
  }
}

export function mutateSavedModel(rng: Rng, pristine: Map<string, Uint8Array>): SavedModelMutation {
  const files = new Map(pristine);
  const r = rng.next();
  if (r < 0.4) {
    const m = mutateIndex(rng, files.get('variables/variables.index')!);
    if (m) {
      files.set('variables/variables.index', m.bytes);
      return { name: m.name, files, raw: m.raw };
    }
  } else if (r < 0.6) {
    const which = rng.pick(['saved_model.pb', 'keras_metadata.pb'].filter((f) => files.has(f)));
    const m = mutateProto(rng, which, files.get(which)!);
    if (m) {
      files.set(which, m.bytes);
      return { name: m.name, files, raw: false };
    }
  }
  const names = [...files.keys()];
  const which = rng.pick(names);
  if (rng.chance(0.1)) {
    files.delete(which);
    return { name: `missing:${which}`, files, raw: false };
  }
  const m = mutateBytes(rng, files.get(which)!);
  files.set(which, m.bytes);
  // The variables files are covered by CRC-32Cs (index blocks, bundle entries); the protobufs are not.
  return { name: `${which}:${m.name}`, files, raw: which.startsWith('variables/') };
}
