/** Weight names for layers that add their own weights. */

/**
 * `<layer>_<suffix>` when tfjs accepts it as a tensor name (`[A-Za-z0-9][-A-Za-z0-9._/]*`; it throws on
 * any other), else the bare suffix: a Keras layer name may hold characters tfjs's names may not.
 */
export function validWeightName(layerName: string, suffix: string): string {
  const name = `${layerName}_${suffix}`;
  return /^[A-Za-z0-9][-A-Za-z0-9._/]*$/.test(name) ? name : suffix;
}
