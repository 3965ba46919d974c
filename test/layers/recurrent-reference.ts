/**
 * Float64 references of Keras's recurrent cells (written from Keras's formulas, independently of the
 * TypeScript layers), shared by the tests of the recurrent layers and of kulc's attention wrappers.
 */
export type Act = (v: number) => number;
export const sigmoid: Act = (v) => 1 / (1 + Math.exp(-v));
export const tanh: Act = Math.tanh;
/** Keras 3's hard_sigmoid. */
export const hardSigmoid: Act = (v) => Math.min(1, Math.max(0, v / 6 + 0.5));

export type Vec = Float64Array;

export interface RefCell {
  sizes: number[];
  step(x: ArrayLike<number>, states: Vec[]): [Vec, Vec[]];
}

/** `y[o] = Σ_i v[i] M[i, o + offset]` for a row-major M with `cols` columns. */
export function vecMat(v: ArrayLike<number>, M: ArrayLike<number>, cols: number, offset: number, width: number): Vec {
  const y = new Float64Array(width);
  for (let o = 0; o < width; o++) {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * M[i * cols + offset + o];
    y[o] = s;
  }
  return y;
}

export function gruRef(W: ArrayLike<number>, U: ArrayLike<number>, bias: ArrayLike<number> | null, units: number, resetAfter: boolean, act: Act = tanh, rec: Act = sigmoid): RefCell {
  const u = units;
  return {
    sizes: [u],
    step(x, [h]) {
      const mx = vecMat(x, W, 3 * u, 0, 3 * u);
      if (bias) for (let g = 0; g < 3 * u; g++) mx[g] += bias[g];
      const out = new Float64Array(u);
      if (resetAfter) {
        const inner = vecMat(h, U, 3 * u, 0, 3 * u);
        if (bias) for (let g = 0; g < 3 * u; g++) inner[g] += bias[3 * u + g];
        for (let k = 0; k < u; k++) {
          const z = rec(mx[k] + inner[k]);
          const r = rec(mx[u + k] + inner[u + k]);
          const hh = act(mx[2 * u + k] + r * inner[2 * u + k]);
          out[k] = z * h[k] + (1 - z) * hh;
        }
      } else {
        const inner = vecMat(h, U, 3 * u, 0, 2 * u);
        const z = new Float64Array(u);
        const rh = new Float64Array(u);
        for (let k = 0; k < u; k++) {
          z[k] = rec(mx[k] + inner[k]);
          rh[k] = rec(mx[u + k] + inner[u + k]) * h[k];
        }
        const recH = vecMat(rh, U, 3 * u, 2 * u, u);
        for (let k = 0; k < u; k++) out[k] = z[k] * h[k] + (1 - z[k]) * act(mx[2 * u + k] + recH[k]);
      }
      return [out, [out]];
    },
  };
}

export function lstmRef(W: ArrayLike<number>, U: ArrayLike<number>, bias: ArrayLike<number> | null, units: number, act: Act = tanh, rec: Act = sigmoid): RefCell {
  const u = units;
  return {
    sizes: [u, u],
    step(x, [h, c]) {
      const z = vecMat(x, W, 4 * u, 0, 4 * u);
      const zr = vecMat(h, U, 4 * u, 0, 4 * u);
      for (let g = 0; g < 4 * u; g++) z[g] += zr[g] + (bias ? bias[g] : 0);
      const hN = new Float64Array(u);
      const cN = new Float64Array(u);
      for (let k = 0; k < u; k++) {
        const i = rec(z[k]);
        const f = rec(z[u + k]);
        cN[k] = f * c[k] + i * act(z[2 * u + k]);
        hN[k] = rec(z[3 * u + k]) * act(cN[k]);
      }
      return [hN, [hN, cN]];
    },
  };
}

export function simpleRef(W: ArrayLike<number>, U: ArrayLike<number>, bias: ArrayLike<number> | null, units: number, act: Act = tanh): RefCell {
  return {
    sizes: [units],
    step(x, [h]) {
      const a = vecMat(x, W, units, 0, units);
      const r = vecMat(h, U, units, 0, units);
      const out = new Float64Array(units);
      for (let k = 0; k < units; k++) out[k] = act(a[k] + (bias ? bias[k] : 0) + r[k]);
      return [out, [out]];
    },
  };
}

/** Keras 1/2's hard_sigmoid (and tfjs's): clip(0.2 v + 0.5, 0, 1). */
export const hardSigmoidKeras2: Act = (v) => Math.min(1, Math.max(0, 0.2 * v + 0.5));
