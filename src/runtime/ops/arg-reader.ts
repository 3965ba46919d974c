/**
 * Reading one call's bound arguments by name: the part the op table's tfjs implementations (OpArgs,
 * spec.ts) and the ONNX lowerings (OnnxOpArgs, src/writers/onnx/op-lowering.ts) read alike. What a tensor
 * is, how a scalar is read from a value and how a failure is worded are each reader's own.
 */
import type { KerasInteropError } from '../../errors.js';
import { type OpValue, pyRepr } from './values.js';

export abstract class ArgReader<T> {
  constructor(
    /** The op as the file spells it, for messages. */
    readonly what: string,
    private readonly values: ReadonlyMap<string, OpValue<T>>,
    private readonly isTensorValue: (x: unknown) => boolean,
  ) {}

  abstract fail(message: string): KerasInteropError;

  /** A value as a Python scalar where it holds one (a one-element array constant, ...), else the value. */
  protected abstract scalar(v: OpValue<T>): unknown;

  protected bad(name: string, expected: string): KerasInteropError {
    return this.fail(`argument ${name}=${pyRepr(this.raw(name), this.isTensorValue)} is not ${expected}`);
  }

  raw(name: string): OpValue<T> {
    const v = this.values.get(name);
    return v === undefined ? null : v;
  }

  /** Whether the argument is given (not None). */
  has(name: string): boolean {
    return this.raw(name) !== null;
  }

  /** A flag; None is False (TensorFlow v1's `keepdims=None`). */
  bool(name: string): boolean {
    const v = this.scalar(this.raw(name));
    if (v === null) return false;
    if (typeof v === 'boolean') return v;
    if (v === 0 || v === 1) return v === 1;
    throw this.bad(name, 'a boolean');
  }

  str(name: string): string | null {
    const v = this.raw(name);
    if (v === null) return null;
    if (typeof v !== 'string') throw this.bad(name, 'a string');
    return v;
  }
}
