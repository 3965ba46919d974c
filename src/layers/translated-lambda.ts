/**
 * `KerasInterop>Lambda`: a Keras `Lambda` layer whose Python function was translated from its bytecode
 * (src/runtime/lambda) into an expression over whitelisted ops. The runtime builds it in place of the
 * Lambda, and the tfjs writer stores it, so a converted model loads with `import 'keras-interop/layers'`.
 *
 * Its config carries the recovered Python text (`expression`, for people), the program (`program`,
 * what runs) and the Python version(s) the bytecode was read as (`python`). tfjs camel-cases every string
 * of a config on load and snake-cases it on save, so the program is stored as JSON text with every `_` and
 * capital letter written as a `\u00XX` escape: neither conversion touches it. A program read from a config
 * is checked like any untrusted input before it runs; nothing in it is ever executed as code.
 *
 * Like Keras's Lambda it has no weights and gives no mask. Its output shape is found as Keras finds a
 * Lambda's: by running the function, here twice on zeros with every unknown dimension set to 2 and then 3,
 * unknown where the two runs differ.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { checkProgram, runProgram } from '../runtime/lambda/execute.js';
import { type LambdaProgram, ProgramFormatError, formatProgram, programFromJson, programToJson } from '../runtime/lambda/ir.js';
import { PySeq, type Value } from '../runtime/lambda/values.js';
import type { ConfigDict, Kwargs, LayerArgs } from './types.js';

export const TRANSLATED_LAMBDA_CLASS_NAME = 'KerasInterop>Lambda';

/** The program as config text that survives tfjs's camel-casing and snake-casing of config strings. */
export function encodeProgram(p: LambdaProgram): string {
  return JSON.stringify(programToJson(p)).replace(/[_A-Z]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** Most characters of a stored program (a one-line function needs a few hundred). */
const MAX_PROGRAM_TEXT = 1 << 20;

export function decodeProgram(text: unknown, layer: string): LambdaProgram {
  const place = `layer "${layer}" config program`;
  if (typeof text !== 'string') throw new KerasInteropError('CONFIG_INVALID', `${place}: expected the program as JSON text`);
  if (text.length > MAX_PROGRAM_TEXT) throw new KerasInteropError('LIMIT_EXCEEDED', `${place}: ${text.length} characters (at most ${MAX_PROGRAM_TEXT})`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new KerasInteropError('CONFIG_INVALID', `${place}: not JSON (${(e as Error).message})`);
  }
  let program: LambdaProgram;
  try {
    program = programFromJson(json, place);
  } catch (e) {
    if (e instanceof ProgramFormatError) throw new KerasInteropError('CONFIG_INVALID', e.message);
    throw e;
  }
  const why = checkProgram(program);
  if (why) throw new KerasInteropError('LAMBDA_LAYER', `${place}: ${why}`);
  return program;
}

export interface TranslatedLambdaArgs extends LayerArgs {
  program: LambdaProgram | string;
  python?: string;
}

/** Elements a shape-finding run may allocate per input (the real batch never reaches it). */
const MAX_TRACE_ELEMENTS = 1 << 26;

export class TranslatedLambda extends tf.layers.Layer {
  static className = TRANSLATED_LAMBDA_CLASS_NAME;
  readonly program: LambdaProgram;
  readonly python: string;

  constructor(args: TranslatedLambdaArgs) {
    super(args);
    this.program = typeof args.program === 'string' ? decodeProgram(args.program, args.name ?? '?') : args.program;
    this.python = args.python ?? '';
    this.supportsMasking = true;
  }

  /** The Python the program computes. */
  get expression(): string {
    return formatProgram(this.program);
  }

  private inputsValue(inputs: tf.Tensor | tf.Tensor[]): Value {
    if (!Array.isArray(inputs)) return inputs;
    return inputs.length === 1 ? inputs[0] : new PySeq('list', inputs);
  }

  /** Runs `f`, turning whatever it throws (tfjs's shape errors included) into an error naming this layer. */
  private named<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      const place = `layer "${this.name}" (${TRANSLATED_LAMBDA_CLASS_NAME}: ${this.expression})`;
      if (e instanceof KerasInteropError) throw new KerasInteropError(e.code, e.message, { place }, { cause: e });
      throw new KerasInteropError('LAMBDA_LAYER', `translated Lambda: ${(e as Error)?.message ?? String(e)}`, { place }, { cause: e });
    }
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const mask = (kwargs?.mask as tf.Tensor | tf.Tensor[] | undefined) ?? null;
    const maskValue: Value = Array.isArray(mask) ? new PySeq('list', mask) : mask;
    const given = new Set(Array.isArray(inputs) ? inputs : [inputs]);
    return this.named(() =>
      tf.tidy(() => {
        const out = runProgram(this.program, this.inputsValue(inputs), maskValue);
        // An input handed back unchanged would be freed by whoever owns the input.
        const keep = (t: tf.Tensor) => (given.has(t) ? t.clone() : t);
        return Array.isArray(out) ? out.map(keep) : keep(out);
      }),
    );
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return this.named(() => this.traceOutputShape(inputShape));
  }

  private traceOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const multi = inputShape.length > 0 && Array.isArray(inputShape[0]);
    const shapes = (multi ? inputShape : [inputShape]) as tf.Shape[];
    const trace = (unknown: number): number[][] =>
      tf.tidy(() => {
        const inputs = shapes.map((s) => {
          const dims = s.map((d) => (d == null ? unknown : d));
          if (dims.reduce((p, q) => p * q, 1) > MAX_TRACE_ELEMENTS) {
            throw new KerasInteropError('LIMIT_EXCEEDED', `layer "${this.name}": an input of shape [${s.join(', ')}] is too large to find the output shape from`);
          }
          return tf.zeros(dims);
        });
        const out = runProgram(this.program, this.inputsValue(multi ? inputs : inputs[0]));
        return (Array.isArray(out) ? out : [out]).map((t) => t.shape.slice());
      });
    const a = trace(2);
    const b = trace(3);
    const merged = a.map((s, i) => s.map((d, j) => (b[i]?.[j] === d ? d : null)));
    if (a.length !== b.length || a.some((s, i) => s.length !== b[i].length)) {
      throw new KerasInteropError('LAMBDA_LAYER', `layer "${this.name}": the output's rank depends on the input's unknown dimensions`);
    }
    return merged.length === 1 && !this.returnsList() ? merged[0] : merged;
  }

  private returnsList(): boolean {
    const r = this.program.result;
    return r.k === 'tuple' || r.k === 'list';
  }

  // tfjs types computeMask as never returning null, but null is how its graph code spells "no mask".
  override computeMask(inputs: tf.Tensor | tf.Tensor[], _mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    void inputs;
    return null as unknown as tf.Tensor;
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), expression: this.expression, program: encodeProgram(this.program), python: this.python };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: ConfigDict): T {
    // `expression` is for people reading the config; the program is what runs.
    const { expression: _expression, ...rest } = config;
    void _expression;
    return new cls(rest as unknown as TranslatedLambdaArgs);
  }
}

tf.serialization.registerClass(TranslatedLambda);
