/** A tfjs model saved with tfjs's own `save`, to memory: its artifacts (topology and weights) as `tf.io.fromMemory` takes them. */
import * as tf from '@tensorflow/tfjs';

export async function savedInMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}
