/**
 * Child process: time to first prediction of a model file in a fresh process, with its phases.
 * `performance.now()` counts from the process's start, so `total_ms` includes Node's start-up and
 * loading the modules (tfjs, h5wasm); the bench runs it as an esbuild bundle under plain Node, as
 * an installed package runs (tsx would add its own transpiling).
 *   node bench/results/build/first-prediction.mjs <model file> <input .npy> [backend]
 * With backend `onnxruntime`, "backend + build" is lowering to ONNX and creating the session.
 */
const atStart = performance.now();
const { readModel } = await import('../src/readers/index.js');
const { buildModelDetailed, predict } = await import('../src/runtime/build.js');
const { readNpyFile } = await import('../src/parity/npy-file.js');
const { emitResult } = await import('./util.js');
const imported = performance.now();

const [file, inputPath, backend] = process.argv.slice(2);
const model = await readModel(file!);
const read = performance.now();
const input = await readNpyFile(inputPath!);
let run: () => Promise<{ shape: number[] }[]>;
let used: string;
if (backend === 'onnxruntime') {
  const { sessionForModel } = await import('../src/runtime/onnxruntime.js');
  const session = await sessionForModel(model);
  run = () => session.run([input]);
  used = 'onnxruntime';
} else {
  const built = await buildModelDetailed(model, { backend });
  run = async () => predict(built.model, [input]);
  used = built.backend;
}
const ready = performance.now();
const outputs = await run();
const done = performance.now();

emitResult({
  backend: used,
  total_ms: done,
  phases_ms: {
    start_and_load: imported,
    read: read - imported,
    backend_and_build: ready - read,
    predict: done - ready,
  },
  output_shape: outputs[0]?.shape,
});
process.exit(0);
