// Types of scripts/abi.mjs for the TypeScript that imports it (test/kernels/abi.test.ts).
export const ABI_SOURCE: string;
export const EXPORTS_SOURCE: string;
export const ABI_OUTPUT: string;
/** The text of src/wasm/abi.ts as the sources make it now. */
export function generateAbi(): string;
