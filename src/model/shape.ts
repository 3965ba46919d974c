/** Shapes as Keras prints them: `(None, 8, 6)`, a free dimension as None. */
export function formatShape(shape: readonly (number | null | undefined)[]): string {
  const dims = shape.map((d) => (d == null ? 'None' : String(d)));
  return `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;
}
