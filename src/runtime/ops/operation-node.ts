/**
 * The one rule telling a Keras 3 operation node of a functional graph from a layer of the same class name
 * (`Add`, `Multiply`, `Concatenate`, `Reshape`, `Softmax`, ...). No tfjs here: readers and writers ask
 * it too (Keras 3's object tree and weight files hold layers only).
 */
import type { JsonObject } from '../../model/types.js';
import { isJsonObject } from '../../model/types.js';

/** Module prefix of Keras 3's operations (`keras.src.ops.numpy`, `keras.src.ops.nn`, ...). */
const OPS_MODULE = /^keras(\.src)?\.ops(\.|$)/;

/**
 * The operation classes of `keras.src.ops` (numpy, nn, core, math, linalg, image; Keras 3.16), by name:
 * whether the table implements them or not, an entry of one of these names can be an operation.
 */
const KERAS3_OPERATION_CLASSES: ReadonlySet<string> = new Set([
  'Abs', 'Absolute', 'AdaptiveAveragePool', 'AdaptiveMaxPool', 'Add', 'AffineTransform', 'All', 'AllClose', 'Amax',
  'Amin', 'Angle', 'Any', 'Append', 'Arange', 'Arccos', 'Arccosh', 'Arcsin', 'Arcsinh', 'Arctan', 'Arctan2',
  'Arctanh', 'Argmax', 'Argmin', 'Argpartition', 'Argsort', 'Array', 'ArraySplit', 'AssociativeScan', 'Average',
  'AveragePool', 'BatchNorm', 'BinaryCrossentropy', 'Bincount', 'BitwiseAnd', 'BitwiseInvert', 'BitwiseLeftShift',
  'BitwiseNot', 'BitwiseOr', 'BitwiseRightShift', 'BitwiseXor', 'BroadcastTo', 'CDist', 'CTCDecode', 'CTCLoss',
  'Cast', 'CategoricalCrossentropy', 'Cbrt', 'Ceil', 'Celu', 'Cholesky', 'CholeskyInverse', 'Clip', 'ColumnStack',
  'Concatenate', 'Cond', 'Conj', 'Conjugate', 'Conv', 'ConvTranspose', 'ConvertToTensor', 'Copy', 'Corrcoef',
  'Correlate', 'Cos', 'Cosh', 'CountNonzero', 'CropImages', 'Cross', 'Cumprod', 'Cumsum', 'Deg2rad', 'DepthToSpace',
  'DepthwiseConv', 'Det', 'Diag', 'Diagflat', 'Diagonal', 'Diff', 'Digitize', 'Divide', 'DivideNoNan', 'Dot',
  'DotProductAttention', 'Dsplit', 'Dstack', 'Eig', 'Eigh', 'Einsum', 'ElasticTransform', 'Elu', 'EmptyLike',
  'Equal', 'Erf', 'Erfc', 'Erfinv', 'Exp', 'Exp2', 'ExpandDims', 'Expm1', 'ExtractPatches', 'ExtractSequences',
  'FFT', 'FFT2', 'Fabs', 'Flip', 'Fliplr', 'Flipud', 'Floor', 'FloorDivide', 'Fmax', 'Fmin', 'Fmod', 'Fold',
  'ForiLoop', 'Full', 'FullLike', 'Gammainc', 'GaussianBlur', 'Gcd', 'Gelu', 'Geomspace', 'GetItem', 'Glu',
  'Greater', 'GreaterEqual', 'HSVToRGB', 'HardShrink', 'HardSigmoid', 'HardSilu', 'HardTanh', 'Heaviside',
  'Histogram', 'Hsplit', 'Hstack', 'Hypot', 'I0', 'IFFT2', 'IRFFT', 'ISTFT', 'Imag', 'InTopK', 'Inner', 'Inv',
  'IsIn', 'Isclose', 'Isfinite', 'Isinf', 'Isnan', 'Isneginf', 'Isposinf', 'Isreal', 'JVP', 'Kron', 'LayerNorm',
  'Lcm', 'Ldexp', 'LeakyRelu', 'LeftShift', 'Less', 'LessEqual', 'Linspace', 'Log', 'Log10', 'Log1p', 'Log2',
  'LogSigmoid', 'LogSoftmax', 'Logaddexp', 'Logaddexp2', 'Logdet', 'LogicalAnd', 'LogicalNot', 'LogicalOr',
  'LogicalXor', 'Logspace', 'Logsumexp', 'Lstsq', 'LuFactor', 'Map', 'MapCoordinates', 'Matmul', 'MatrixPower',
  'MatrixRank', 'Max', 'MaxPool', 'Maximum', 'Mean', 'Median', 'Meshgrid', 'Min', 'Minimum', 'Mod', 'Moments',
  'Moveaxis', 'MultiHot', 'Multiply', 'NanToNum', 'Nanargmax', 'Nanargmin', 'Nancumprod', 'Nancumsum', 'Nanmax',
  'Nanmean', 'Nanmedian', 'Nanmin', 'Nanpercentile', 'Nanprod', 'Nanquantile', 'Nanstd', 'Nansum', 'Nanvar', 'Ndim',
  'Negative', 'Nextafter', 'Nonzero', 'Norm', 'Normalize', 'NotEqual', 'OneHot', 'OnesLike', 'Outer', 'PSNR', 'Pad',
  'PadImages', 'Percentile', 'PerspectiveTransform', 'Pinv', 'Polar', 'Power', 'Prod', 'Ptp', 'Qr', 'Quantile',
  'RFFT', 'RGBToGrayscale', 'RGBToHSV', 'RMSNorm', 'Rad2deg', 'Ravel', 'Real', 'Reciprocal', 'ReconstructPatches',
  'Relu', 'Relu6', 'Repeat', 'Reshape', 'Resize', 'RightShift', 'Roll', 'Rot90', 'Round', 'Rsqrt', 'SSIM', 'STFT',
  'SVD', 'SaturateCast', 'ScaleAndTranslate', 'Scan', 'Scatter', 'ScatterUpdate', 'SearchSorted', 'SegmentMax',
  'SegmentMin', 'SegmentProd', 'SegmentReduction', 'SegmentSum', 'Select', 'Selu', 'SeparableConv', 'Sigmoid',
  'Sign', 'Signbit', 'Silu', 'Sin', 'Sinc', 'Sinh', 'Size', 'Slice', 'SliceUpdate', 'Slogdet', 'SobelEdges',
  'SoftShrink', 'Softmax', 'Softplus', 'Softsign', 'Solve', 'SolveTriangular', 'Sort', 'SpaceToDepth',
  'SparseCategoricalCrossentropy', 'SparsePlus', 'SparseSigmoid', 'Sparsemax', 'Split', 'Sqrt', 'Square',
  'Squareplus', 'Squeeze', 'Stack', 'Std', 'StopGradient', 'Subtract', 'Sum', 'Swapaxes', 'Switch', 'Take',
  'TakeAlongAxis', 'Tan', 'Tanh', 'TanhShrink', 'Tensordot', 'Threshold', 'Tile', 'TopK', 'Trace', 'Transpose',
  'Trapezoid', 'Tril', 'Triu', 'TrueDivide', 'Trunc', 'Unfold', 'Unique', 'UnravelIndex', 'Unstack', 'Vander', 'Var',
  'Vdot', 'VectorizedMap', 'View', 'ViewAsComplex', 'ViewAsReal', 'Vsplit', 'Vstack', 'Where', 'WhileLoop',
  'ZerosLike',
]);

/**
 * Whether an entry of a functional model's layer list is a Keras 3 operation (a `keras.ops` call on a
 * KerasTensor) rather than a layer. A `.keras` archive says so by the entry's `module`. A Keras 3 legacy
 * `.h5` file drops `module`, and several operations share their class name with a layer (`Add`,
 * `Multiply`, `Concatenate`, `Reshape`, `Softmax`): there, an operation is an operation class called in a
 * Keras 3 node (`{args, kwargs}`) whose config holds only its name and the operation's arguments, while
 * every layer's config (in any Keras version) holds `trainable`.
 */
export function isKeras3Operation(entry: JsonObject): boolean {
  if (typeof entry.module === 'string') return OPS_MODULE.test(entry.module);
  if ('module' in entry) return false;
  if (typeof entry.class_name !== 'string' || !KERAS3_OPERATION_CLASSES.has(entry.class_name)) return false;
  const config = isJsonObject(entry.config) ? entry.config : undefined;
  if (!config || 'trainable' in config) return false;
  const nodes = Array.isArray(entry.inbound_nodes) ? entry.inbound_nodes : [];
  return nodes.length > 0 && nodes.every(isJsonObject);
}
