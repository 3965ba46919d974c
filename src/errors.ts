/**
 * One error class for every bad input. `code` is stable (tools match on it), `file` names the input,
 * `place` says where inside it (HDF5 path, zip entry, JSON pointer, proto field), and the message says
 * what was expected.
 */
export type ErrorCode =
  | 'FILE_NOT_FOUND'
  | 'UNKNOWN_FORMAT'
  | 'HDF5_INVALID'
  | 'HDF5_MISSING'
  | 'CONFIG_INVALID'
  | 'CONFIG_MISSING'
  | 'WEIGHTS_MISMATCH'
  | 'UNSUPPORTED_DTYPE'
  | 'UNSUPPORTED_LAYER'
  | 'LAMBDA_LAYER'
  | 'UNSUPPORTED_OP'
  | 'NPY_INVALID'
  | 'CASE_INVALID'
  | 'INPUT_MISMATCH'
  | 'LAYER_FAILED'
  | 'LIMIT_EXCEEDED'
  | 'ZIP_INVALID'
  | 'ZIP_UNSAFE'
  | 'PROTO_INVALID'
  | 'CHECKSUM_MISMATCH'
  | 'TFJS_INVALID'
  | 'USAGE'
  | 'WRITE_FAILED'
  | 'INTERNAL';

export interface ErrorLocation {
  /** The file (or folder) the problem is in. */
  file?: string;
  /** Where inside the file: an HDF5 path, a zip entry, a JSON pointer, a proto field. */
  place?: string;
}

export class KerasInteropError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly place?: string;

  constructor(code: ErrorCode, message: string, where: ErrorLocation = {}, options?: { cause?: unknown }) {
    const prefix = [where.file, where.place].filter((s) => s != null && s !== '').join(': ');
    super(prefix ? `${prefix}: ${message}` : message, options);
    this.name = 'KerasInteropError';
    this.code = code;
    this.file = where.file;
    this.place = where.place;
  }

  /** The same error with the file filled in, for readers that learn the file name late. */
  withFile(file: string): KerasInteropError {
    if (this.file) return this;
    const bare = this.place ? this.message.slice(this.place.length + 2) : this.message;
    return new KerasInteropError(this.code, bare, { file, place: this.place }, { cause: this.cause });
  }

  toJSON(): { code: ErrorCode; message: string; file?: string; place?: string } {
    return { code: this.code, message: this.message, file: this.file, place: this.place };
  }
}

/** Raised when a layer class has no TypeScript implementation; names how to register one. */
export class UnsupportedLayerError extends KerasInteropError {
  readonly layerName: string;
  readonly className: string;

  constructor(layerName: string, className: string, detail: string, where: ErrorLocation = {}) {
    super(
      className === 'Lambda' ? 'LAMBDA_LAYER' : 'UNSUPPORTED_LAYER',
      `layer "${layerName}" (class ${className}) cannot run: ${detail}`,
      where,
    );
    this.name = 'UnsupportedLayerError';
    this.layerName = layerName;
    this.className = className;
  }
}

export function isKerasInteropError(e: unknown): e is KerasInteropError {
  return e instanceof KerasInteropError;
}
