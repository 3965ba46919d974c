/**
 * `--layers ./my-layers.js`: the user's own ES modules, imported before any model is read, so that the
 * `registerLayer(...)` calls they make at import are in place when the model is built. Nothing from a
 * model file is executed; these are files the user names.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KerasInteropError } from '../errors.js';
import { loweredOps } from '../writers/onnx/op-lowering.js';
import { loweredClasses } from '../writers/onnx/registry.js';
import { listOps } from './ops/table.js';
import { registeredLayerClasses } from './registry.js';
import { checkTfjsEngine } from './tfjs-copies.js';
import { checkTfjsOnDisk } from './tfjs-copies-node.js';

/** Modules imported in this process and what each registered (a second import is Node's cached one). */
const imported = new Map<string, string[]>();

export interface LoadedLayerModule {
  file: string;
  /**
   * What the module registered with this package (and its copy of tfjs): layer classes by name, ops as
   * `op:<name>`, ONNX lowerings as `onnx:<class>` and `onnx-op:<op>`.
   */
  registered: string[];
}

/** Everything a plug-in module can register, each under its own prefix. */
function registrations(): string[] {
  return [
    ...registeredLayerClasses(),
    ...listOps().map((o) => `op:${o.name}`),
    ...loweredClasses().map((c) => `onnx:${c}`),
    ...loweredOps().map((o) => `onnx-op:${o}`),
  ];
}

/**
 * Imports each module in order (relative paths from the current folder). A module that registers nothing
 * (no layer class, op or ONNX lowering) is reported: it most likely imports another copy of keras-interop
 * or @tensorflow/tfjs.
 */
export async function importLayerModules(files: readonly string[], warn: (line: string) => void): Promise<LoadedLayerModule[]> {
  const loaded: LoadedLayerModule[] = [];
  for (const file of files) {
    const path = resolve(file);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new KerasInteropError('FILE_NOT_FOUND', 'no such layers module (--layers takes ES module files, e.g. ./my-layers.js)', { file });
    }
    const again = imported.get(path);
    if (again) {
      loaded.push({ file, registered: again });
      continue;
    }
    checkTfjsOnDisk(dirname(path), warn);
    const before = new Set(registrations());
    try {
      await import(pathToFileURL(path).href);
    } catch (e) {
      const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new KerasInteropError('LAYER_FAILED', `importing this layers module failed: ${detail}`, { file }, { cause: e });
    }
    const registered = registrations().filter((c) => !before.has(c));
    if (registered.length === 0) {
      warn(
        `warning: ${file} registered no layer class here (nor an op or an ONNX lowering); call registerLayer() ` +
          `from 'keras-interop' in it, and make sure it imports the same keras-interop and @tensorflow/tfjs as this command`,
      );
    }
    imported.set(path, registered);
    loaded.push({ file, registered });
  }
  checkTfjsEngine(warn);
  return loaded;
}
