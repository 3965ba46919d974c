/**
 * Layers that are the identity at inference (dropout and noise layers), and `KerasInterop>NoMask`, the
 * identity that drops masks (where Keras ran a call with `mask=None`; see src/layers/no-mask.ts).
 */
import { registerLowering } from '../registry.js';

for (const className of ['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization']) {
  registerLowering(className, (_ctx, call) => ({ outputs: [call.inputs[0]] }));
}

registerLowering('KerasInterop>NoMask', (_ctx, call) => ({ outputs: call.inputs.slice(), masks: call.inputs.map(() => null) }));
