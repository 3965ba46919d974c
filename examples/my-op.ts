import * as tf from '@tensorflow/tfjs';
import { registerOp, addAliases, TF_FUNCTIONS, KERAS3_OPS } from 'keras-interop';

registerOp({ name: 'cube', signature: 'x', doc: 'x ** 3', run: (a) => tf.pow(a.tensor('x'), 3) });
addAliases(TF_FUNCTIONS, { 'math.cube': ['cube', 'x, name=None'] });   // TFOpLambda function "math.cube"
addAliases(KERAS3_OPS, { Cube: ['cube', 'x'] });                       // a Keras 3 operation class
