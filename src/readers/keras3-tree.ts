/**
 * Groups of Keras's object-tree weights file (`model.weights.h5`): `layers/dense/vars/0`, ...
 *
 * tf.keras 2.15 saving a `.keras` archive on Windows joined the tree's paths with `os.path.join`, so
 * `layers\dense` and `layers\multi_head_attention\_key_dense` are each one group at the file's root
 * (a real file: ../shared/wild/37). A `TreeGroup` finds an object's children either way: as HDF5
 * members, or as root groups named by the backslash-joined path (list containers such as `layers` then
 * exist only as that prefix).
 */
import { type H5Group, getGroup, getMember, isGroup, memberNames } from './h5.js';

interface TreeView {
  root: H5Group;
  file: string;
  /** Root members whose names hold a backslash (the Windows layout); empty otherwise. */
  flat: string[];
}

export class TreeGroup {
  private constructor(
    private readonly view: TreeView,
    /** The backslash-joined tree path in the Windows layout ('' at the root). */
    private readonly key: string,
    /** The HDF5 group, when one exists (not for a list container of the Windows layout). */
    readonly real: H5Group | undefined,
  ) {}

  static root(root: H5Group, file: string): TreeGroup {
    return new TreeGroup({ root, file, flat: memberNames(root, file).filter((n) => n.includes('\\')) }, '', root);
  }

  /** Where it is, for messages. */
  get path(): string {
    return this.real?.path ?? `/${this.key}`;
  }

  private childKey(name: string): string {
    return this.key === '' ? name : `${this.key}\\${name}`;
  }

  child(name: string): TreeGroup | undefined {
    const { root, file, flat } = this.view;
    const key = this.childKey(name);
    const real = this.real && getGroup(this.real, name, file);
    if (real) return new TreeGroup(this.view, key, real);
    if (flat.length === 0) return undefined;
    const own = flat.includes(key) ? getGroup(root, key, file) : undefined;
    if (own || flat.some((n) => n.startsWith(`${key}\\`))) return new TreeGroup(this.view, key, own);
    return undefined;
  }

  /** The names of its child groups (`vars` included), HDF5 members first. */
  childNames(): string[] {
    const { file, flat } = this.view;
    const out = this.real ? memberNames(this.real, file).filter((k) => !k.includes('\\') && isGroup(getMember(this.real as H5Group, k, file))) : [];
    const prefix = this.key === '' ? '' : `${this.key}\\`;
    for (const n of flat) {
      if (!n.startsWith(prefix)) continue;
      const head = n.slice(prefix.length).split('\\')[0];
      if (head !== '' && !out.includes(head)) out.push(head);
    }
    return out;
  }
}
