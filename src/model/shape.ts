/** Shapes as Keras prints them: `(None, 8, 6)`, a free dimension as None. */
export function formatShape(shape: readonly (number | null | undefined)[]): string {
  const dims = shape.map((d) => (d == null ? 'None' : String(d)));
  return `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;
}

/** A shape as a list, `[2, 3]`, as messages about stored values and weights give it. */
export function shapeText(s: readonly (number | null)[]): string {
  return `[${s.join(', ')}]`;
}
