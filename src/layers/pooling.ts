/**
 * Global 1-D pooling as Keras computes it. tfjs's built-ins ignore `data_format` and masks; Keras
 * pools over the steps axis (axis 1 for channels_last, axis 2 for channels_first) and, with a mask,
 * averages only the unmasked steps (max pooling ignores the mask in Keras too).
 * Registered under Keras's class names, replacing tfjs's.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import type { Kwargs, LayerArgs } from './types.js';


interface GlobalPooling1DArgs extends LayerArgs {
  dataFormat?: 'channelsLast' | 'channelsFirst' | 'channels_last' | 'channels_first';
  keepdims?: boolean;
}

function isChannelsFirst(format: GlobalPooling1DArgs['dataFormat']): boolean {
  return format === 'channelsFirst' || format === 'channels_first';
}

abstract class GlobalPooling1D extends tf.layers.Layer {
  readonly channelsFirst: boolean;
  readonly keepdims: boolean;

  constructor(args: GlobalPooling1DArgs = {}) {
    super(args);
    const format = args.dataFormat ?? 'channelsLast';
    if (!['channelsLast', 'channelsFirst', 'channels_last', 'channels_first'].includes(format)) {
      throw new KerasInteropError('CONFIG_INVALID', `${this.getClassName()} "${this.name}": data_format must be channels_last or channels_first, got "${format}"`);
    }
    this.channelsFirst = isChannelsFirst(format);
    this.keepdims = args.keepdims ?? false;
    this.supportsMasking = true;
  }

  protected get stepsAxis(): number {
    return this.channelsFirst ? 2 : 1;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (this.keepdims) return s.map((d, i) => (i === this.stepsAxis ? 1 : d));
    return s.filter((_, i) => i !== this.stepsAxis);
  }

  override computeMask(): tf.Tensor {
    // Pooling consumes the steps axis, and the mask with it (tfjs types masks as never null).
    return null as unknown as tf.Tensor;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dataFormat: this.channelsFirst ? 'channelsFirst' : 'channelsLast', keepdims: this.keepdims };
  }
}

export class GlobalAveragePooling1D extends GlobalPooling1D {
  static className = 'GlobalAveragePooling1D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const rawMask = kwargs?.mask;
      const mask = Array.isArray(rawMask) ? rawMask[0] : rawMask;
      if (mask == null) return tf.mean(x, this.stepsAxis, this.keepdims);
      // Keras: sum(x * mask) / sum(mask) over the steps axis.
      const m = tf.cast(mask, x.dtype).expandDims(this.channelsFirst ? 1 : 2);
      const num = tf.sum(tf.mul(x, m), this.stepsAxis, this.keepdims);
      const den = tf.sum(m, this.stepsAxis, this.keepdims);
      return tf.div(num, den);
    });
  }
}

export class GlobalMaxPooling1D extends GlobalPooling1D {
  static className = 'GlobalMaxPooling1D';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.max(Array.isArray(inputs) ? inputs[0] : inputs, this.stepsAxis, this.keepdims));
  }
}
