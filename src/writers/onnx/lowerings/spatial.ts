/** 2-D layout layers: ZeroPadding2D, Cropping2D, UpSampling2D. */
import { registerLowering } from '../registry.js';
import { isChannelsFirst } from './config.js';

/** [[top, bottom], [left, right]] from tfjs's config (a number, [h, w] or the nested form). */
function pairs(v: unknown): [[number, number], [number, number]] {
  if (typeof v === 'number') return [[v, v], [v, v]];
  const [a, b] = v as unknown[];
  const pair = (p: unknown): [number, number] => (Array.isArray(p) ? [Number(p[0]), Number(p[1])] : [Number(p), Number(p)]);
  return [pair(a), pair(b)];
}

registerLowering('ZeroPadding2D', (ctx, call) => {
  const g = ctx.graph;
  const c = call.layer.getConfig();
  const [[t, b], [l, r]] = pairs(c.padding);
  const pads = isChannelsFirst(c.dataFormat) ? [0, 0, t, l, 0, 0, b, r] : [0, t, l, 0, 0, b, r, 0];
  const x = call.inputs[0];
  return { outputs: [{ ...x, name: g.op('Pad', [x.name, g.ints(pads)]), shape: call.outputShapes[0] }] };
});

registerLowering('Cropping2D', (ctx, call) => {
  const g = ctx.graph;
  const c = call.layer.getConfig();
  const [[t, b], [l, r]] = pairs(c.cropping);
  const axes = isChannelsFirst(c.dataFormat) ? [2, 3] : [1, 2];
  const x = call.inputs[0];
  // Slice's ends count from the end: -b, or past the end when nothing is cropped.
  const end = (n: number) => (n === 0 ? 2 ** 53 - 1 : -n);
  const y = g.op('Slice', [x.name, g.ints([t, l]), g.ints([end(b), end(r)]), g.ints(axes)]);
  return { outputs: [{ ...x, name: y, shape: call.outputShapes[0] }] };
});

registerLowering('UpSampling2D', (ctx, call) => {
  const g = ctx.graph;
  const c = call.layer.getConfig();
  const [sh, sw] = Array.isArray(c.size) ? (c.size as number[]) : [Number(c.size), Number(c.size)];
  const scales = isChannelsFirst(c.dataFormat) ? [1, 1, sh, sw] : [1, sh, sw, 1];
  const bilinear = c.interpolation === 'bilinear';
  const x = call.inputs[0];
  // Nearest: each value repeated (ONNX's asymmetric coordinates, rounding down). Bilinear as Keras's
  // tf.image.resize samples, with half-pixel centers (tfjs 4.22 samples without them).
  const attrs: Record<string, string> = bilinear
    ? { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }
    : { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
  const y = g.op('Resize', [x.name, '', g.constant('float32', scales)], attrs);
  return { outputs: [{ ...x, name: y, shape: call.outputShapes[0] }] };
});
