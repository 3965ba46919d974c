/** Kept equal to package.json's version (a test checks); written into converted files as `convertedBy`. */
export const VERSION = '0.1.0';
