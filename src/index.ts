/** keras-interop's public API. The CLI is a thin layer over these functions. */
import { checkOneTfjs } from './runtime/tfjs-copies-node.js';

// One copy of tfjs: says once, in one line, when the program has another one (see tfjs-copies.ts).
checkOneTfjs();

export { KerasInteropError, UnsupportedLayerError, isKerasInteropError, type ErrorCode } from './errors.js';
export type { KerasModel, LayerWeights, Weight, WeightDType, JsonObject, JsonValue, SourceFormat } from './model/types.js';
export { summarize, formatSummary, type ModelSummary, type LayerSummary } from './model/summary.js';
export { readModel, readConfigSource, detectFormat, type ReadOptions } from './readers/index.js';
export type { ReadLimits } from './readers/h5.js';
export { useBackend, currentBackend, type BackendName } from './runtime/backend.js';
export { buildModel, buildModelDetailed, predict, type BuildOptions, type BuildResult, type InputArray, type OutputArray } from './runtime/build.js';
export { normalizeConfig } from './runtime/normalize.js';
export {
  CLASS_CANDIDATES,
  classResolutions,
  resolveClassName,
  resolveLayerClass,
  type ClassCandidate,
  type ClassChoice,
  type ClassResolution,
  type LayerOrigin,
} from './runtime/class-resolution.js';
export { upgradeLegacyLayers } from './runtime/legacy-layers.js';
export { registerLayer, type LayerConstructor } from './runtime/registry.js';
export {
  registerOp,
  getOp,
  listOps,
  addAliases,
  bindCall,
  bindOp,
  runOp,
  unbindCall,
  preferredAlias,
  type OpAlias,
  type AliasTable,
  type OpCall,
} from './runtime/ops/table.js';
export { OpArgs, type OpSpec, type OpResult } from './runtime/ops/spec.js';
export { type OpValue, type PySlice, type ArrayConstant, ELLIPSIS, pySlice } from './runtime/ops/values.js';
export { TF_FUNCTIONS } from './runtime/ops/tf-functions.js';
export { KERAS3_OPS } from './runtime/ops/keras3-ops.js';
export { isKeras3Operation } from './runtime/ops/operation-node.js';
export {
  runModel,
  runModelDetailed,
  runOnnxFile,
  chooseBackend,
  describeRuntime,
  type RunOptions,
  type RunOutput,
  type RuntimeDescription,
  type BackendChoice,
} from './runtime/run.js';
export type { ModelSignature, TensorSpec } from './runtime/signature.js';
export { translateLambda, type LambdaTranslation } from './runtime/lambda/translate.js';
export { LAMBDA_FUNCTIONS } from './runtime/lambda/aliases.js';
export { lambdaReports, type LambdaPolicy, type LambdaReport } from './runtime/lambda/replace.js';
export type { BlockingLayer, Blockers } from './runtime/blockers.js';
export { parseNpy, encodeNpy, type NpyArray, type NpyDtype } from './parity/npy.js';
export { readNpyFile, writeNpyFile } from './parity/npy-file.js';
export { compareArrays, formatReport, type CompareReport, type Tolerance } from './parity/compare.js';
export { readGoldenCase, type GoldenCase } from './parity/case.js';
export { verifyCase, verifyModelFile, type FileVerification, type VerifyOptions, type VerifyResult } from './parity/verify.js';
export * from './layers/index.js';
export { convertModel, type ConvertOptions, type ConvertProgress, type ConvertTarget } from './writers/index.js';
export { writeHdf5, writeWeightsHdf5, type WriteHdf5Options, type WriteWeightsOptions } from './writers/hdf5.js';
export { writeKerasArchive, type WriteKerasArchiveOptions } from './writers/keras-archive.js';
export { writeTfjs, type TfjsQuantizeOptions, type WriteTfjsOptions } from './writers/tfjs.js';
export { readTfjsFiles, type TfjsFileMap } from './readers/tfjs.js';
export {
  registerLowering,
  findLowering,
  loweredClasses,
  lowerModel,
  exportOnnx,
  onnxModelBytes,
  OnnxLoweringError,
  registerOpLowering,
  findOpLowering,
  loweredOps,
  OnnxOpArgs,
  OPSET,
  type Lowering,
  type LoweringContext,
  type LayerCall,
  type LayerLowered,
  type LowerOptions,
  type ExportOnnxOptions,
  type OpLowering,
} from './writers/onnx/index.js';
export { writeOnnxFile, type WriteOnnxOptions } from './writers/index.js';
export { readTfjs, readSavedModel } from './readers/index.js';
export { withAttentionTaps, tapAttention, attentionHead, attentionTapsOn, attentionHeatmap, type AttentionMap, type AttentionView } from './runtime/attention-taps.js';
export { VERSION } from './version.js';
