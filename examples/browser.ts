// keras-interop in a page: a model the user picked (a File, or a folder's FileList), run on .npy Files with its
// attention tapped, then converted to a tfjs folder zipped for download. Nothing leaves the page.
import { buildModel, convertToFiles, parseNpy, predict, readModelFrom, setWasmLocation, useBackend, withAttentionTaps, zipFiles } from 'keras-interop/browser';

export async function openRunConvert(model: File | FileList, npyFiles: File[]): Promise<{ outputs: string[]; attention: string[]; zip: Blob }> {
  setWasmLocation(new URL('./', location.href).href); // where the page serves tfjs-backend-wasm's .wasm files
  await useBackend('wasm');
  const keras = await readModelFrom(model); // .h5, .keras; SavedModel or tfjs folders as FileLists
  const inputs = await Promise.all(npyFiles.map(async (f) => parseNpy(new Uint8Array(await f.arrayBuffer()), f.name)));
  const tfModel = await buildModel(keras);
  const { result, maps } = await withAttentionTaps(() => predict(tfModel, inputs));
  tfModel.dispose();
  const files = await convertToFiles(keras, 'tfjs', { progress: (p) => console.log(`${p.path}: ${Math.round((100 * p.done) / p.total)}%`) });
  return {
    outputs: result.map((o) => `${o.name} [${o.shape}]`),
    attention: maps.map((m) => `${m.layer} [${m.shape}]`),
    zip: new Blob([zipFiles(files, 'model_tfjs') as Uint8Array<ArrayBuffer>], { type: 'application/zip' }),
  };
}
