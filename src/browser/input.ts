/**
 * What a page hands the readers: the bytes of a dropped or picked file, or a folder's files (a picked
 * folder's FileList, a dropped folder walked into a map). Blobs are read into memory here, once; the
 * readers then read synchronously.
 */
import { type ByteSource, type FileSet, type ModelSource, bytesSource, memoryFiles } from '../readers/io/source.js';

/** A folder: its name and its files by path relative to it (`variables/variables.index`). */
export interface FolderInput {
  name: string;
  files: ReadonlyMap<string, Blob | ArrayBuffer | Uint8Array>;
}

/** One file's bytes (a File names itself), a FileList or list of Files from a folder pick, or a folder. */
export type ModelInput = ArrayBuffer | Uint8Array | Blob | FileList | readonly File[] | FolderInput;

async function bytesOf(b: Blob | ArrayBuffer | Uint8Array): Promise<Uint8Array> {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  return new Uint8Array(await b.arrayBuffer());
}

export function isFolderInput(input: unknown): input is FolderInput {
  return typeof (input as FolderInput).name === 'string' && (input as FolderInput).files instanceof Map;
}

/**
 * A folder pick's files by relative path: `webkitRelativePath` is `<folder>/<path>`; the folder's name
 * becomes the file set's. Files picked without a folder keep their names.
 */
export function folderOf(files: readonly File[]): FolderInput {
  const rel = files.map((f) => f.webkitRelativePath || f.name);
  const top = rel.every((r) => r.includes('/')) ? rel[0].slice(0, rel[0].indexOf('/')) : '';
  const sameTop = top !== '' && rel.every((r) => r.startsWith(top + '/'));
  const map = new Map<string, Blob>();
  files.forEach((f, i) => map.set(sameTop ? rel[i].slice(top.length + 1) : rel[i], f));
  return { name: sameTop ? top : '', files: map };
}

/** The input as the readers take it: a ByteSource for one file, a FileSet for a folder. */
export async function sourceOf(input: ModelInput, name = 'model'): Promise<ModelSource> {
  if (input instanceof ArrayBuffer || input instanceof Uint8Array) return bytesSource(name, await bytesOf(input));
  if (input instanceof Blob) return bytesSource((input as File).name || name, await bytesOf(input));
  const folder = isFolderInput(input) ? input : folderOf(Array.from(input as ArrayLike<File>));
  if (!isFolderInput(input) && folder.files.size === 1 && folder.name === '') {
    const [[fileName, blob]] = [...folder.files];
    return bytesSource(fileName, await bytesOf(blob));
  }
  return folderFiles(folder);
}

/** A folder's files, read into memory. */
export async function folderFiles(folder: FolderInput): Promise<FileSet> {
  const bytes = new Map<string, Uint8Array>();
  for (const [path, b] of folder.files) bytes.set(path, await bytesOf(b));
  return memoryFiles(folder.name, bytes);
}

export type { ByteSource, FileSet, ModelSource };
