/**
 * `ExternalAttentionRNNWrapper(layer, return_attention)` of FlashTek's kulc (`kulc/attention.py`
 * @9479647, not in its README): `AttentionRNNWrapper` whose attention looks at a second, time-independent
 * input ("Show, Attend and Tell"). Inputs `[x (B, T, Dt), static (B, L, Ds), ...initial states]`; per step
 *   attention = softmax over l of ((static W1 + b2) + h W2) V     (B, L)
 *   cell input = [x_t; sum_l attention * static] W3 + b3         (B, Dt)
 * Weights `W1` (Ds, Dt), `W2` (U, Dt), `W3` (Dt + Ds, Dt), `b2`, `b3` (Dt,), `V` (Dt, 1), then the cell's.
 * Outputs: the wrapped layer's (sequence or last output, then the states with return_state), then with
 * `return_attention` each step's attention, (B, T, L) (kulc declares (B, L)).
 *
 * Keras 2.2.4 runs this layer only with return_sequences and return_state both set (its build and call
 * read the wrapped layer's output shape so), and not with a mask: its `K.rnn` then compares outputs of
 * U + L features with states of U. A mask is refused here; the other flag combinations are computed.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { AttentionWrapperBase, type AttentionRNNWrapperArgs, stepMask } from './attention-rnn-wrapper.js';
import type { Kwargs, Shape } from './types.js';
import { attentionTapsOn, tapAttention } from '../runtime/attention-taps.js';

export interface ExternalAttentionRNNWrapperArgs extends AttentionRNNWrapperArgs {
  returnAttention?: boolean;
}

export class ExternalAttentionRNNWrapper extends AttentionWrapperBase {
  static className = 'ExternalAttentionRNNWrapper';

  readonly returnAttention: boolean;

  constructor(args: ExternalAttentionRNNWrapperArgs) {
    super(args);
    this.returnAttention = args.returnAttention ?? false;
  }

  private inputShapes(inputShape: Shape | Shape[]): [Shape, Shape] {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as Shape[];
    const [x, external] = shapes;
    if (shapes.length < 2 || x.length !== 3 || external.length !== 3 || x[2] == null || external[2] == null) {
      throw new KerasInteropError(
        'INPUT_MISMATCH',
        `ExternalAttentionRNNWrapper "${this.name}" takes [temporal (batch, time, features), external (batch, steps, features)], got ${JSON.stringify(shapes)}`,
      );
    }
    return [x, external];
  }

  override build(inputShape: Shape | Shape[]): void {
    const [x, external] = this.inputShapes(inputShape);
    const dt = x[2]!;
    const ds = external[2]!;
    const u = this.units;
    this.buildAttention({ W1: [ds, dt], W2: [u, dt], W3: [dt + ds, dt], b2: [dt], b3: [dt], V: [dt, 1] }, dt);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    this.inputShapes(list.map((t) => t.shape));
    const masks = Array.isArray(kwargs?.['mask']) ? (kwargs['mask'] as unknown[]) : [kwargs?.['mask']];
    if (masks.slice(0, 2).some((m) => stepMask(m) != null)) {
      throw new KerasInteropError(
        'UNSUPPORTED_LAYER',
        `ExternalAttentionRNNWrapper "${this.name}" got a mask: kulc's code cannot run masked (Keras 2's K.rnn compares its U + L wide outputs with the U wide states), so there is nothing to reproduce`,
      );
    }
    const [x, external] = list as tf.Tensor3D[];
    const initial = list.length > 2 ? list.slice(2) : null;
    const result = tf.tidy(() => {
      const { outputs, attentions, states } = this.runSteps(x, external, initial, null);
      if (attentionTapsOn()) tapAttention(this, inputs, tf.stack(attentions, 1));
      const out = this.rnnOutputs(outputs, states);
      if (!this.returnAttention) return out;
      return [...out, this.layer.returnSequences ? tf.stack(attentions, 1) : attentions[attentions.length - 1]];
    });
    return result.length === 1 ? result[0] : result;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const [x, external] = this.inputShapes(inputShape);
    const shapes = this.rnnOutputShapes(x);
    if (this.returnAttention) shapes.push(this.layer.returnSequences ? [x[0], x[1], external[1]] : [x[0], external[1]]);
    return shapes.length === 1 ? shapes[0] : shapes;
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], _mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const count = (this.layer.returnState ? 1 + this.stateSizes().length : 1) + (this.returnAttention ? 1 : 0);
    return (count === 1 ? null : new Array(count).fill(null)) as unknown as tf.Tensor | tf.Tensor[];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), returnAttention: this.returnAttention };
  }
}
