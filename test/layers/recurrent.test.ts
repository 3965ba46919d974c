import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { KerasInteropError } from '../../src/errors.js';
import { MultiHead } from '../../src/layers/multi-head.js';
import { Bidirectional, GRU, GRUCell, LSTM, LSTMCell, RNN, SimpleRNN, SimpleRNNCell } from '../../src/layers/recurrent.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { verifyCase } from '../../src/parity/verify.js';
import { readModel } from '../../src/readers/index.js';
import { useBackend } from '../../src/runtime/backend.js';
import { buildModel } from '../../src/runtime/build.js';
import { goldenDir } from './multi-head-golden-helpers.js';
import { wildFile } from '../helpers/paths.js';
import { describeWild } from '../helpers/wild.js';
import { mulberry32 } from '../../fuzz/lib/rng.js';
import { type RefCell, type Vec, gruRef, hardSigmoid, lstmRef, sigmoid, simpleRef, tanh } from './recurrent-reference.js';
import { randomArray, seedWeights } from './seeded-values.js';

const CLASSES = [LSTM, GRU, SimpleRNN, RNN, Bidirectional, LSTMCell, GRUCell, SimpleRNNCell, MultiHead];

beforeAll(async () => {
  await useBackend('cpu');
  for (const cls of CLASSES) {
    tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  }
});

// ---------------------------------------------------------------------------------------------------------
// Float64 references of Keras's computation.

const rng = mulberry32;

interface RefRun {
  /** Per sample, the outputs in processing order. */
  outputs: Vec[][];
  states: Vec[][];
}

/** Keras's time loop (NumPy backend): masked steps keep the states and output zeros or the previous output. */
function runRef(cell: RefCell, x: ArrayLike<number>, B: number, T: number, D: number, opts: { mask?: number[][]; goBackwards?: boolean; zeroOutput?: boolean; initial?: Vec[][] } = {}): RefRun {
  const outputs: Vec[][] = [];
  const finals: Vec[][] = [];
  for (let b = 0; b < B; b++) {
    let states: Vec[] = opts.initial ? opts.initial[b].map((s) => Float64Array.from(s)) : cell.sizes.map((s) => new Float64Array(s));
    const outs: Vec[] = [];
    for (let k = 0; k < T; k++) {
      const t = opts.goBackwards ? T - 1 - k : k;
      const xt = Array.from({ length: D }, (_, i) => x[(b * T + t) * D + i]);
      let [o, ns] = cell.step(xt, states);
      if (opts.mask && !opts.mask[b][t]) {
        o = opts.zeroOutput ? new Float64Array(o.length) : Float64Array.from(states[0]);
        ns = states;
      }
      outs.push(o);
      states = ns;
    }
    outputs.push(outs);
    finals.push(states);
  }
  return { outputs, states: finals };
}

const flat = (rows: Vec[]): number[] => rows.flatMap((r) => Array.from(r));
const seqOf = (run: RefRun): number[] => run.outputs.flatMap((outs) => flat(outs));
const lastOf = (run: RefRun): number[] => run.outputs.flatMap((outs) => Array.from(outs[outs.length - 1]));
const stateOf = (run: RefRun, i: number): number[] => run.states.flatMap((s) => Array.from(s[i]));
/** The backward run's sequence flipped back to input order, as Bidirectional does. */
const flippedSeq = (run: RefRun): Vec[][] => run.outputs.map((outs) => outs.slice().reverse());

function expectClose(actual: tf.Tensor, expected: ArrayLike<number>, shape: number[], atol = 2e-5): void {
  expect(actual.shape).toEqual(shape);
  const a = actual.dataSync();
  expect(a.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - expected[i]) - 1e-4 * Math.abs(expected[i]));
  expect(worst).toBeLessThan(atol);
}

function build(layer: tf.layers.Layer, shape: number[]): void {
  layer.apply(tf.input({ batchShape: [null, ...shape.slice(1)] }));
}

const B = 3;
const T = 6;
const D = 4;
const U = 5;
const X = randomArray(rng(7), B * T * D, 1.2);
const xTensor = () => tf.tensor(X, [B, T, D]);
const RIGHT_PADDED = [
  [1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 0, 0],
  [1, 1, 0, 0, 0, 0],
];
const HOLES = [
  [1, 0, 1, 1, 0, 1],
  [0, 0, 1, 1, 1, 0],
  [1, 1, 0, 1, 0, 0],
];
const maskTensor = (m: number[][]) => tf.tensor2d(m, [m.length, m[0].length], 'bool');

// ---------------------------------------------------------------------------------------------------------

describe('GRU', () => {
  for (const resetAfter of [true, false]) {
    describe(`reset_after=${resetAfter}`, () => {
      it('creates kernel (in, 3u), recurrent_kernel (u, 3u) and the bias in Keras order and shape', () => {
        const layer = new GRU({ units: U, resetAfter, name: 'g' });
        build(layer, [B, T, D]);
        expect(layer.weights.map((w) => w.shape)).toEqual([[D, 3 * U], [U, 3 * U], resetAfter ? [2, 3 * U] : [3 * U]]);
        expect(layer.weights.map((w) => w.originalName.split('/').pop())).toEqual(['kernel', 'recurrent_kernel', 'bias']);
      });

      for (const goBackwards of [false, true]) {
        for (const returnSequences of [false, true]) {
          it(`matches the reference (go_backwards=${goBackwards}, return_sequences=${returnSequences}, return_state)`, () => {
            const layer = new GRU({ units: U, resetAfter, goBackwards, returnSequences, returnState: true });
            build(layer, [B, T, D]);
            const [W, Uw, b] = seedWeights(layer, 11 + Number(resetAfter));
            const ref = runRef(gruRef(W, Uw, b, U, resetAfter), X, B, T, D, { goBackwards });
            const [out, h] = layer.apply(xTensor()) as tf.Tensor[];
            if (returnSequences) expectClose(out, seqOf(ref), [B, T, U]);
            else expectClose(out, lastOf(ref), [B, U]);
            expectClose(h, stateOf(ref, 0), [B, U]);
          });
        }
      }

      for (const [maskName, mask] of [['right-padded', RIGHT_PADDED], ['with holes', HOLES]] as const) {
        for (const zeroOutput of [false, true]) {
          for (const goBackwards of [false, true]) {
            it(`masks (${maskName}, zero_output_for_mask=${zeroOutput}, go_backwards=${goBackwards})`, () => {
              const layer = new GRU({ units: U, resetAfter, goBackwards, returnSequences: true, returnState: true, zeroOutputForMask: zeroOutput });
              build(layer, [B, T, D]);
              const [W, Uw, b] = seedWeights(layer, 21);
              const ref = runRef(gruRef(W, Uw, b, U, resetAfter), X, B, T, D, { mask: mask.map((r) => r.slice()), goBackwards, zeroOutput });
              const [seq, h] = layer.call(xTensor(), { mask: maskTensor(mask) }) as tf.Tensor[];
              expectClose(seq, seqOf(ref), [B, T, U]);
              expectClose(h, stateOf(ref, 0), [B, U]);
              const last = layer.call(xTensor(), { mask: maskTensor(mask) }) as tf.Tensor[];
              expect(last.length).toBe(2);
            });
          }
        }
      }

      it('last output of a masked sequence (return_sequences=False) is the last processed step', () => {
        for (const zeroOutput of [false, true]) {
          const layer = new GRU({ units: U, resetAfter, zeroOutputForMask: zeroOutput });
          build(layer, [B, T, D]);
          const [W, Uw, b] = seedWeights(layer, 31);
          const ref = runRef(gruRef(W, Uw, b, U, resetAfter), X, B, T, D, { mask: HOLES, zeroOutput });
          expectClose(layer.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor, lastOf(ref), [B, U]);
        }
      });

      it('without a bias', () => {
        const layer = new GRU({ units: U, resetAfter, useBias: false, returnSequences: true });
        build(layer, [B, T, D]);
        expect(layer.weights.length).toBe(2);
        const [W, Uw] = seedWeights(layer, 41);
        const ref = runRef(gruRef(W, Uw, null, U, resetAfter), X, B, T, D, { mask: HOLES });
        expectClose(layer.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor, seqOf(ref), [B, T, U]);
      });
    });
  }

  it("uses Keras 3's hard_sigmoid (x/6 + 0.5, clipped) and other activations", () => {
    const layer = new GRU({ units: U, recurrentActivation: 'hardSigmoid', activation: 'relu', returnSequences: true });
    build(layer, [B, T, D]);
    const [W, Uw, b] = seedWeights(layer, 51, 2.5);
    const ref = runRef(gruRef(W, Uw, b, U, true, (v) => Math.max(0, v), hardSigmoid), X, B, T, D);
    expectClose(layer.apply(xTensor()) as tf.Tensor, seqOf(ref), [B, T, U], 1e-4);
  });

  it("agrees with tfjs's own GRU for reset_after=False", () => {
    const ours = new GRU({ units: U, resetAfter: false, returnSequences: true });
    const theirs = tf.layers.gru({ units: U, recurrentActivation: 'sigmoid', returnSequences: true });
    build(ours, [B, T, D]);
    build(theirs, [B, T, D]);
    const values = seedWeights(ours, 61);
    theirs.setWeights(values.map((v, i) => tf.tensor(v, ours.weights[i].shape as number[])));
    const a = ours.apply(xTensor()) as tf.Tensor;
    const b = theirs.apply(xTensor()) as tf.Tensor;
    expectClose(a, b.dataSync(), [B, T, U], 1e-6);
  });

  it('starts from a given initial state', () => {
    const layer = new GRU({ units: U, returnSequences: true });
    build(layer, [B, T, D]);
    const [W, Uw, b] = seedWeights(layer, 71);
    const h0 = randomArray(rng(72), B * U, 0.5);
    const initial = Array.from({ length: B }, (_, i) => [Float64Array.from(h0.subarray(i * U, (i + 1) * U))]);
    const ref = runRef(gruRef(W, Uw, b, U, true), X, B, T, D, { mask: HOLES, initial });
    const out = layer.call(xTensor(), { mask: maskTensor(HOLES), initialState: [tf.tensor(h0, [B, U])] }) as tf.Tensor;
    expectClose(out, seqOf(ref), [B, T, U]);
  });

  it('leaves no tensors behind', () => {
    const layer = new GRU({ units: U, returnSequences: true, returnState: true, zeroOutputForMask: true });
    build(layer, [B, T, D]);
    seedWeights(layer, 75);
    const x = xTensor();
    const mask = maskTensor(HOLES);
    const before = tf.memory().numTensors;
    const outs = layer.call(x, { mask }) as tf.Tensor[];
    expect(tf.memory().numTensors).toBe(before + outs.length);
    tf.dispose(outs);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses stateful=True clearly', () => {
    expect(() => new GRU({ units: 2, stateful: true, name: 'sg' })).toThrow(KerasInteropError);
    expect(() => new LSTM({ units: 2, stateful: true })).toThrow(/stateful=True is not supported/);
  });

  it('serializes reset_after and zero_output_for_mask and rebuilds from its config', () => {
    const layer = new GRU({ units: U, resetAfter: true, zeroOutputForMask: true, returnSequences: true, goBackwards: true, name: 'gru_x' });
    build(layer, [B, T, D]);
    const values = seedWeights(layer, 81);
    const config = layer.getConfig();
    expect(config).toMatchObject({ units: U, resetAfter: true, zeroOutputForMask: true, returnSequences: true, goBackwards: true, activation: 'tanh', recurrentActivation: 'sigmoid', name: 'gru_x' });
    const copy = tf.serialization.SerializationMap.getMap().classNameMap.GRU;
    expect(copy[0]).toBe(GRU);
    const clone = GRU.fromConfig(GRU, JSON.parse(JSON.stringify(config))) as GRU;
    build(clone, [B, T, D]);
    clone.setWeights(values.map((v, i) => tf.tensor(v, layer.weights[i].shape as number[])));
    const a = layer.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor;
    const b = clone.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
  });

  it('runs inside TimeDistributed', () => {
    const S = 2;
    const x4 = randomArray(rng(91), B * S * T * D);
    const layer = new GRU({ units: U });
    const td = tf.layers.timeDistributed({ layer });
    td.apply(tf.input({ batchShape: [null, S, T, D] }));
    const [W, Uw, b] = seedWeights(layer, 92);
    const ref = runRef(gruRef(W, Uw, b, U, true), x4, B * S, T, D);
    expectClose(td.apply(tf.tensor(x4, [B, S, T, D])) as tf.Tensor, lastOf(ref), [B, S, U]);
  });

  it('runs inside MultiHead (duplicated, with a mask)', () => {
    const mh = new MultiHead({ layer: new GRU({ units: U, name: 'gru', returnSequences: true }), layerNum: 2, name: 'mh' });
    mh.apply(tf.input({ batchShape: [null, T, D] }));
    const values = seedWeights(mh, 101);
    const refs = [0, 1].map((i) => runRef(gruRef(values[3 * i], values[3 * i + 1], values[3 * i + 2], U, true), X, B, T, D, { mask: HOLES }));
    const out = mh.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor;
    const expected: number[] = [];
    const seqs = refs.map(seqOf);
    for (let p = 0; p < B * T * U; p++) expected.push(seqs[0][p], seqs[1][p]);
    expectClose(out, expected, [B, T, U, 2]);
  });
});

describe('LSTM', () => {
  for (const goBackwards of [false, true]) {
    for (const [maskName, mask] of [['none', null], ['right-padded', RIGHT_PADDED], ['with holes', HOLES]] as const) {
      it(`matches the reference (mask ${maskName}, go_backwards=${goBackwards}), states h and c`, () => {
        for (const zeroOutput of [false, true]) {
          const layer = new LSTM({ units: U, goBackwards, returnSequences: true, returnState: true, zeroOutputForMask: zeroOutput });
          build(layer, [B, T, D]);
          expect(layer.weights.map((w) => w.shape)).toEqual([[D, 4 * U], [U, 4 * U], [4 * U]]);
          const [W, Uw, b] = seedWeights(layer, 201);
          const ref = runRef(lstmRef(W, Uw, b, U), X, B, T, D, { mask: mask?.map((r) => r.slice()), goBackwards, zeroOutput });
          const kwargs = mask ? { mask: maskTensor(mask) } : {};
          const [seq, h, c] = layer.call(xTensor(), kwargs) as tf.Tensor[];
          expectClose(seq, seqOf(ref), [B, T, U]);
          expectClose(h, stateOf(ref, 0), [B, U]);
          expectClose(c, stateOf(ref, 1), [B, U]);
        }
      });
    }
  }

  it('return_sequences=False gives the last processed output', () => {
    const layer = new LSTM({ units: U, goBackwards: true });
    build(layer, [B, T, D]);
    const [W, Uw, b] = seedWeights(layer, 211);
    const ref = runRef(lstmRef(W, Uw, b, U), X, B, T, D, { mask: HOLES, goBackwards: true });
    expectClose(layer.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor, lastOf(ref), [B, U]);
  });
});

describe('SimpleRNN and the generic RNN', () => {
  it('SimpleRNN matches the reference with a mask and zero_output_for_mask', () => {
    const layer = new SimpleRNN({ units: U, returnSequences: true, zeroOutputForMask: true });
    build(layer, [B, T, D]);
    const [W, Uw, b] = seedWeights(layer, 301);
    const ref = runRef(simpleRef(W, Uw, b, U), X, B, T, D, { mask: HOLES, zeroOutput: true });
    expectClose(layer.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor, seqOf(ref), [B, T, U]);
  });

  it('RNN with a GRUCell config (reset_after) deserialized through the registry', () => {
    const layer = new RNN({ cell: { className: 'GRUCell', config: { units: U, resetAfter: true } }, returnSequences: true, zeroOutputForMask: true });
    build(layer, [B, T, D]);
    const [W, Uw, b] = seedWeights(layer, 311);
    const ref = runRef(gruRef(W, Uw, b, U, true), X, B, T, D, { mask: HOLES, zeroOutput: true });
    expectClose(layer.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor, seqOf(ref), [B, T, U]);
    const config = layer.getConfig();
    expect((config.cell as { className: string }).className).toBe('GRUCell');
  });

  it('RNN with stacked cells (tfjs StackedRNNCells) runs through the generic step', () => {
    const layer = new RNN({ cell: [new GRUCell({ units: 3 }), new SimpleRNNCell({ units: 2 })], returnSequences: true });
    build(layer, [B, T, D]);
    const [W1, U1, b1, W2, U2, b2] = seedWeights(layer, 321);
    const g = gruRef(W1, U1, b1, 3, true);
    const s = simpleRef(W2, U2, b2, 2);
    const stacked: RefCell = {
      sizes: [2, 3],
      step(x, [h2, h1]) {
        const [o1] = g.step(x, [h1]);
        const [o2] = s.step(o1, [h2]);
        return [o2, [o2, o1]];
      },
    };
    const ref = runRef(stacked, X, B, T, D, { mask: HOLES });
    expectClose(layer.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor, seqOf(ref), [B, T, 2]);
  });
});

describe('Bidirectional', () => {
  const merge = (mode: string, a: number, b: number): number[] =>
    mode === 'sum' ? [a + b] : mode === 'ave' ? [(a + b) / 2] : mode === 'mul' ? [a * b] : [a, b];

  for (const inner of ['GRU', 'LSTM'] as const) {
    for (const mode of ['concat', 'sum', 'ave', 'mul'] as const) {
      for (const returnSequences of [true, false]) {
        it(`${inner}, merge_mode=${mode}, return_sequences=${returnSequences}, mask with holes`, () => {
          const layer = inner === 'GRU' ? new GRU({ units: U, returnSequences, name: 'rnn' }) : new LSTM({ units: U, returnSequences, name: 'rnn' });
          const bi = new Bidirectional({ layer, mergeMode: mode, name: 'bi' });
          build(bi, [B, T, D]);
          expect(bi.forward.name).toBe('forward_rnn');
          expect(bi.backward.name).toBe('backward_rnn');
          // Keras forces zero_output_for_mask = return_sequences on both sub-layers.
          expect((bi.forward as RNN).zeroOutputForMask).toBe(returnSequences);
          expect((bi.backward as RNN).zeroOutputForMask).toBe(returnSequences);
          const w = seedWeights(bi, 401);
          const cell = (o: number) => (inner === 'GRU' ? gruRef(w[o], w[o + 1], w[o + 2], U, true) : lstmRef(w[o], w[o + 1], w[o + 2], U));
          const fwd = runRef(cell(0), X, B, T, D, { mask: HOLES, zeroOutput: returnSequences });
          const bwd = runRef(cell(3), X, B, T, D, { mask: HOLES, goBackwards: true, zeroOutput: returnSequences });
          const expected: number[] = [];
          if (returnSequences) {
            const back = flippedSeq(bwd);
            for (let b = 0; b < B; b++) {
              for (let t = 0; t < T; t++) {
                if (mode === 'concat') expected.push(...fwd.outputs[b][t], ...back[b][t]);
                else for (let k = 0; k < U; k++) expected.push(...merge(mode, fwd.outputs[b][t][k], back[b][t][k]));
              }
            }
          } else {
            for (let b = 0; b < B; b++) {
              const f = fwd.outputs[b][T - 1];
              const r = bwd.outputs[b][T - 1];
              if (mode === 'concat') expected.push(...f, ...r);
              else for (let k = 0; k < U; k++) expected.push(...merge(mode, f[k], r[k]));
            }
          }
          const width = mode === 'concat' ? 2 * U : U;
          const out = bi.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor;
          expectClose(out, expected, returnSequences ? [B, T, width] : [B, width]);
        });
      }
    }
  }

  it('return_state gives the merged output then forward and backward states', () => {
    const bi = new Bidirectional({ layer: new LSTM({ units: U, returnSequences: true, returnState: true, name: 'l' }), mergeMode: 'concat' });
    build(bi, [B, T, D]);
    const w = seedWeights(bi, 411);
    const fwd = runRef(lstmRef(w[0], w[1], w[2], U), X, B, T, D, { mask: RIGHT_PADDED, zeroOutput: true });
    const bwd = runRef(lstmRef(w[3], w[4], w[5], U), X, B, T, D, { mask: RIGHT_PADDED, goBackwards: true, zeroOutput: true });
    const outs = bi.call(xTensor(), { mask: maskTensor(RIGHT_PADDED) }) as tf.Tensor[];
    expect(outs.length).toBe(5);
    expectClose(outs[1], stateOf(fwd, 0), [B, U]);
    expectClose(outs[2], stateOf(fwd, 1), [B, U]);
    expectClose(outs[3], stateOf(bwd, 0), [B, U]);
    expectClose(outs[4], stateOf(bwd, 1), [B, U]);
    const back = flippedSeq(bwd);
    const expected: number[] = [];
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) expected.push(...fwd.outputs[b][t], ...back[b][t]);
    expectClose(outs[0], expected, [B, T, 2 * U]);
  });

  it('merge_mode=None returns the forward and the (flipped) backward sequences', () => {
    const bi = new Bidirectional({ layer: new SimpleRNN({ units: U, returnSequences: true }), mergeMode: null });
    build(bi, [B, T, D]);
    const w = seedWeights(bi, 415);
    const fwd = runRef(simpleRef(w[0], w[1], w[2], U), X, B, T, D, { mask: HOLES, zeroOutput: true });
    const bwd = runRef(simpleRef(w[3], w[4], w[5], U), X, B, T, D, { mask: HOLES, goBackwards: true, zeroOutput: true });
    const [y, yRev] = bi.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor[];
    expectClose(y, seqOf(fwd), [B, T, U]);
    expectClose(yRev, flippedSeq(bwd).flatMap((outs) => flat(outs)), [B, T, U]);
  });

  it('honours an explicit backward_layer', () => {
    const bi = new Bidirectional({
      layer: new GRU({ units: U, returnSequences: true, name: 'f' }),
      backwardLayer: { className: 'SimpleRNN', config: { units: U, returnSequences: true, goBackwards: true, name: 'backward_s' } },
      mergeMode: 'sum',
    });
    build(bi, [B, T, D]);
    expect(bi.backward.getClassName()).toBe('SimpleRNN');
    const w = seedWeights(bi, 421);
    const fwd = runRef(gruRef(w[0], w[1], w[2], U, true), X, B, T, D, { mask: HOLES, zeroOutput: true });
    const bwd = runRef(simpleRef(w[3], w[4], w[5], U), X, B, T, D, { mask: HOLES, goBackwards: true, zeroOutput: true });
    const back = flippedSeq(bwd);
    const expected: number[] = [];
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let k = 0; k < U; k++) expected.push(fwd.outputs[b][t][k] + back[b][t][k]);
    expectClose(bi.call(xTensor(), { mask: maskTensor(HOLES) }) as tf.Tensor, expected, [B, T, U]);
    expect((bi.getConfig().backwardLayer as { className: string }).className).toBe('SimpleRNN');
    expect(() => new Bidirectional({ layer: new GRU({ units: 2 }), backwardLayer: new GRU({ units: 2 }) })).toThrow(KerasInteropError);
  });

  it('builds from a Keras-style JSON model (Masking → Bidirectional(GRU reset_after)) with masks propagated by tfjs', async () => {
    const json = {
      class_name: 'Sequential',
      config: {
        name: 'seq',
        layers: [
          { class_name: 'Masking', config: { name: 'masking', mask_value: 0.0, batch_input_shape: [null, T, D] } },
          {
            class_name: 'Bidirectional',
            config: {
              name: 'bidirectional',
              merge_mode: 'ave',
              layer: { class_name: 'GRU', config: { name: 'gru', units: U, return_sequences: true, reset_after: true, zero_output_for_mask: false, recurrent_activation: 'hard_sigmoid' } },
            },
          },
        ],
      },
    };
    const model = await tf.models.modelFromJSON({ modelTopology: json } as unknown as tf.io.ModelJSON);
    const bi = model.getLayer('bidirectional') as unknown as Bidirectional;
    expect(bi.weights.map((w) => w.shape)).toEqual([[D, 3 * U], [U, 3 * U], [2, 3 * U], [D, 3 * U], [U, 3 * U], [2, 3 * U]]);
    const w = seedWeights(bi as unknown as tf.layers.Layer, 431, 1.5);
    const x = Float32Array.from(X);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) if (!HOLES[b][t]) for (let i = 0; i < D; i++) x[(b * T + t) * D + i] = 0;
    const fwd = runRef(gruRef(w[0], w[1], w[2], U, true, tanh, hardSigmoid), x, B, T, D, { mask: HOLES, zeroOutput: true });
    const bwd = runRef(gruRef(w[3], w[4], w[5], U, true, tanh, hardSigmoid), x, B, T, D, { mask: HOLES, goBackwards: true, zeroOutput: true });
    const back = flippedSeq(bwd);
    const expected: number[] = [];
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let k = 0; k < U; k++) expected.push((fwd.outputs[b][t][k] + back[b][t][k]) / 2);
    expectClose(model.predict(tf.tensor(x, [B, T, D])) as tf.Tensor, expected, [B, T, U]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Real files.

function layerWeights(model: Awaited<ReturnType<typeof readModel>>, name: string): Float32Array[] {
  const entry = model.weights.find((l) => l.layer === name);
  if (!entry) throw new Error(`no weights for layer ${name}`);
  return entry.weights.map((w) => Float32Array.from(w.data as ArrayLike<number>));
}

describe('golden sa_additive_basic: Embedding(mask_zero) → Bidirectional(LSTM)', () => {
  it("Bidirectional's output on the golden tokens matches a float64 reference of Keras's computation", async () => {
    const dir = goldenDir('sa_additive_basic');
    const model = await readModel(`${dir}/model.keras`);
    const tokens = readNpyFileSync(`${dir}/input_0.npy`);
    const [Bt, Tt] = tokens.shape;
    const ids = Array.from(tokens.data as Int32Array, Number);
    const [emb] = layerWeights(model, 'embedding');
    const Dm = 6;
    const units = 5;
    const x = new Float32Array(Bt * Tt * Dm);
    ids.forEach((id, p) => x.set(emb.subarray(id * Dm, (id + 1) * Dm), p * Dm));
    const mask = Array.from({ length: Bt }, (_, b) => ids.slice(b * Tt, (b + 1) * Tt).map((v) => (v !== 0 ? 1 : 0)));
    expect(mask.some((r) => r.includes(0))).toBe(true);
    const w = layerWeights(model, 'bidirectional');
    const fwd = runRef(lstmRef(w[0], w[1], w[2], units), x, Bt, Tt, Dm, { mask, zeroOutput: true });
    const bwd = runRef(lstmRef(w[3], w[4], w[5], units), x, Bt, Tt, Dm, { mask, goBackwards: true, zeroOutput: true });
    const back = flippedSeq(bwd);
    const expected: number[] = [];
    for (let b = 0; b < Bt; b++) for (let t = 0; t < Tt; t++) expected.push(...fwd.outputs[b][t], ...back[b][t]);

    // The layer on its own, from the file's (camelCased) settings.
    const bi = new Bidirectional({ layer: new LSTM({ units, returnSequences: true, name: 'lstm' }), mergeMode: 'concat', name: 'bidirectional' });
    build(bi, [Bt, Tt, Dm]);
    bi.setWeights(w.map((v, i) => tf.tensor(v, bi.weights[i].shape as number[])));
    const direct = bi.call(tf.tensor(x, [Bt, Tt, Dm]), { mask: tf.tensor2d(mask, [Bt, Tt], 'bool') }) as tf.Tensor;
    expectClose(direct, expected, [Bt, Tt, 2 * units], 1e-5);

    // The same layer inside the model the runtime builds from the file (Embedding's mask propagated by tfjs).
    const tfModel = await buildModel(model, { backend: 'cpu' });
    const sub = tf.model({ inputs: tfModel.inputs, outputs: tfModel.getLayer('bidirectional').output as tf.SymbolicTensor });
    const built = sub.predict(tf.tensor(ids, [Bt, Tt], 'int32')) as tf.Tensor;
    expectClose(built, expected, [Bt, Tt, 2 * units], 1e-5);
  });
});

describeWild('wild 19_randomlist_bigru_masking_archive: Masking → Bidirectional(GRU reset_after) ×2 → Dense (Keras 3.5)', () => {
  const file = () => wildFile('19_randomlist_bigru_masking_archive', 'model.keras');

  it('verifyCase passes on the golden outputs', async () => {
    const result = await verifyCase(wildFile('19_randomlist_bigru_masking_archive', 'golden'), { backend: 'cpu' });
    expect(result.files.map((f) => f.error)).toEqual([undefined]);
    expect(result.pass).toBe(true);
  });

  it('the first Bidirectional(GRU) on masked inputs (with holes) matches a float64 reference with the real weights', async () => {
    const model = await readModel(file());
    const tfModel = await buildModel(model, { backend: 'cpu' });
    const w = layerWeights(model, 'bidirectional');
    expect(w[2].length).toBe(2 * 192);
    const Tt = 12;
    const units = 64;
    const mask = [
      [1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0],
      [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
    ];
    const x = randomArray(rng(501), 3 * Tt, 1.5);
    mask.forEach((row, b) => row.forEach((m, t) => { if (!m) x[b * Tt + t] = 0; }));
    const fwd = runRef(gruRef(w[0], w[1], w[2], units, true), x, 3, Tt, 1, { mask, zeroOutput: true });
    const bwd = runRef(gruRef(w[3], w[4], w[5], units, true), x, 3, Tt, 1, { mask, goBackwards: true, zeroOutput: true });
    const back = flippedSeq(bwd);
    const expected: number[] = [];
    for (let b = 0; b < 3; b++) for (let t = 0; t < Tt; t++) expected.push(...fwd.outputs[b][t], ...back[b][t]);
    // The model's input is (None, 100, 1): pad with masked steps and compare the first Tt.
    const full = new Float32Array(3 * 100);
    for (let b = 0; b < 3; b++) full.set(x.subarray(b * Tt, (b + 1) * Tt), b * 100);
    const sub = tf.model({ inputs: tfModel.inputs, outputs: tfModel.getLayer('bidirectional').output as tf.SymbolicTensor });
    const out = sub.predict(tf.tensor(full, [3, 100, 1])) as tf.Tensor;
    expect(out.shape).toEqual([3, 100, 2 * units]);
    const head = tf.slice(out, [0, 0, 0], [3, Tt, 2 * units]);
    // The backward pass first crosses the 88 padded (masked) steps, which keep its state at zero.
    expectClose(head, expected, [3, Tt, 2 * units], 1e-5);
    const tail = tf.slice(out, [0, Tt, 0], [3, 100 - Tt, 2 * units]);
    expect(tf.max(tf.abs(tail)).dataSync()[0]).toBe(0);
  });
});
