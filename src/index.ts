/** keras-interop's public API. The CLI is a thin layer over these functions. */
export { KerasInteropError, UnsupportedLayerError, isKerasInteropError, type ErrorCode } from './errors.js';
export type { KerasModel, LayerWeights, Weight, WeightDType, JsonObject, JsonValue, SourceFormat } from './model/types.js';
export { summarize, formatSummary, type ModelSummary, type LayerSummary } from './model/summary.js';
export { readModel, readConfigSource, detectFormat, type ReadOptions } from './readers/index.js';
export { useBackend, currentBackend, type BackendName } from './runtime/backend.js';
export { buildModel, buildModelDetailed, predict } from './runtime/build.js';
export { normalizeConfig, resolveClassName } from './runtime/normalize.js';
export { registerLayer } from './runtime/registry.js';
export { runModel, runModelDetailed, runOnnxFile, chooseBackend, describeRuntime, type RunOptions, type BackendChoice } from './runtime/run.js';
export { parseNpy, encodeNpy, type NpyArray } from './parity/npy.js';
export { readNpyFile, writeNpyFile } from './parity/npy-file.js';
export { compareArrays, formatReport, type CompareReport } from './parity/compare.js';
export { readGoldenCase, type GoldenCase } from './parity/case.js';
export { verifyCase, verifyModelFile, type VerifyResult } from './parity/verify.js';
export * from './layers/index.js';
export { convertModel } from './writers/index.js';
export {
  registerLowering,
  findLowering,
  loweredClasses,
  lowerModel,
  exportOnnx,
  onnxModelBytes,
  OnnxLoweringError,
  OPSET,
  type Lowering,
  type LoweringContext,
  type LayerCall,
  type LayerLowered,
  type LowerOptions,
  type ExportOnnxOptions,
} from './onnx/index.js';
export { writeOnnxFile } from './writers/onnx.js';
export { writeHdf5, writeWeightsHdf5 } from './writers/hdf5.js';
export { writeKerasArchive } from './writers/keras-archive.js';
export { writeTfjs } from './writers/tfjs.js';
export { readTfjsFiles } from './readers/tfjs.js';
export { readTfjs } from './readers/tfjs-files.js';
export { readSavedModel } from './readers/savedmodel/index.js';
export { VERSION } from './version.js';
