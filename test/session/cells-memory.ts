/**
 * Run by cells-memory.test.ts in its own process (node --expose-gc): creates and drops 1000
 * 64-unit LstmCells, then prints the growth of the process's memory (RSS and external) after
 * a collection, in MB, as JSON.
 */
import { LstmCell, ready } from "../../src/node.ts";

const gc = (globalThis as { gc?: () => void }).gc!;
const u = 64;
const args = { units: u, kernel: new Float32Array(u * 4 * u).fill(0.01), recurrentKernel: new Float32Array(u * 4 * u).fill(0.01) };
await ready();
const x = { data: new Float32Array(u).fill(0.5), shape: [1, u] };
const zero = () => [{ data: new Float32Array(u), shape: [1, u] }, { data: new Float32Array(u), shape: [1, u] }];
// warm up: the module, the code paths, the allocator's first pages
for (let i = 0; i < 20; i++) new LstmCell(args).call(x, zero());
const settle = async () => {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
};
await settle();
const before = process.memoryUsage();
for (let i = 0; i < 1000; i++) new LstmCell(args).call(x, zero()); // each dropped at once
await settle();
const after = process.memoryUsage();
const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
console.log(JSON.stringify({ rss: mb(after.rss - before.rss), external: mb(after.external - before.external) }));
