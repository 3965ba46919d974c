/** Reading tfjs layer configs the same way in every lowering. */

/** `channels_first` in tfjs's or Keras's spelling. */
export function isChannelsFirst(format: unknown): boolean {
  return format === 'channelsFirst' || format === 'channels_first';
}

/** A size given as one number or as one per axis (kernel sizes, strides, dilations), as a list of `n`. */
export function perAxis(v: unknown, n: number, fallback = 1): number[] {
  return Array.isArray(v) ? (v as number[]) : new Array<number>(n).fill(Number(v ?? fallback));
}
