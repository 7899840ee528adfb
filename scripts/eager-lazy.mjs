/**
 * Builds one runtime entry as exactly two modules: `<name>.js` (or .cjs), everything a plain
 * loadModel + predict needs, and `<name>-lazy.js`, the optional parts (tfjs model.json import
 * and model builder, tokenizer, generation, standalone cells) the entry reaches with import().
 *
 * Why not esbuild's code splitting: on a cold start Node's ESM loader pays ~0.7 ms per module
 * and V8 ~0.07 ms per KB it parses (this VM), and splitting one entry gives seven modules (the
 * entry plus every chunk shared with an optional part). One self-contained bundle parses 40 KB
 * of optional code on every start. Two modules keep both costs down.
 *
 * The lazy module must not carry its own copies of the modules the entry already holds: they
 * hold identity and state (RnnWasmError for `instanceof`, the registered kernel provider). So
 * the entry exports those module namespaces under one internal name, and every import of them
 * from the optional parts is rewritten to read that export of the entry.
 */
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";

const INTERNAL = "__rnnwasm_internal";

/**
 * Modules the lazy module copies instead of sharing: they hold no identity or state, and
 * sharing one exports its whole namespace from the entry (every constant of the generated
 * kernel ABI, ~2 KB), where a copy keeps only what the optional parts use (esbuild inlines
 * the constants).
 */
const COPIED = ["src/wasm/abi.ts"];

/** Source files named by dynamic imports: `import("./model/build.js")` -> src/model/build.ts. */
function lazyTarget(args, lazy) {
  if (args.kind !== "dynamic-import" || !args.path.startsWith(".")) return null;
  const file = resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts"));
  return lazy.has(file) ? file : null;
}

/**
 * @param esbuild the esbuild module
 * @param o.entry source entry (src/node.ts), o.name output base name ("node"), o.ext ".js" or
 *   ".cjs" (with options.format "cjs"), o.lazy the source files loaded on demand, o.root the
 *   repository root, o.options the esbuild options of the entry (outdir, platform, minify, ...)
 */
export async function buildEagerAndLazy(esbuild, { entry, name, ext = ".js", lazy, root, options }) {
  const [eagerFile, lazyFile] = [`${name}${ext}`, `${name}-lazy${ext}`];
  const lazyFiles = new Set(lazy.map((f) => resolve(root, f)));
  const key = (file) => relative(root, file).split("\\").join("/");
  const lazyImportsToOneModule = {
    name: "lazy-parts-to-one-module",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => (lazyTarget(args, lazyFiles) ? { path: `./${lazyFile}`, external: true } : undefined));
    },
  };
  const lazySource = [...lazyFiles].map((f) => `export * from ${JSON.stringify(f)};`).join("\n");
  // probes: the module graph and export names (esm: a cjs metafile lists no exports)
  const probe = { ...options, format: "esm", banner: undefined, define: undefined, write: false, metafile: true, minify: false, sourcemap: false, logLevel: "silent" };

  // 1. which eager modules the optional parts import: those are shared, not copied
  const eagerProbe = await esbuild.build({ ...probe, entryPoints: { [name]: entry }, plugins: [lazyImportsToOneModule] });
  const eagerInputs = new Set(Object.keys(eagerProbe.metafile.inputs).map((f) => resolve(root, f)));
  const lazyProbe = await esbuild.build({ ...probe, entryPoints: undefined, stdin: { contents: lazySource, resolveDir: root, loader: "ts", sourcefile: `${name}-lazy.ts` } });
  const shared = new Set();
  const copied = new Set(COPIED.map((f) => resolve(root, f)));
  for (const [file, input] of Object.entries(lazyProbe.metafile.inputs)) {
    if (eagerInputs.has(resolve(root, file))) continue;
    for (const i of input.imports) if (!i.external && eagerInputs.has(resolve(root, i.path)) && !copied.has(resolve(root, i.path))) shared.add(resolve(root, i.path));
  }
  const lazyExports = Object.values(lazyProbe.metafile.outputs)[0].exports;
  let declared = 0;
  for (const f of lazyFiles) declared += (await exportsOf(esbuild, f, options)).length;
  if (lazyExports.length !== declared) throw new Error(`${name}-lazy: the optional parts export clashing names (${lazyExports.length} of ${declared} survive export *)`);

  // 2. the entry, plus one internal export holding the shared module namespaces
  const sharedList = [...shared].sort();
  // the entry's own source with the export appended (an `export * from` the entry would lose
  // its top-level registrations: package.json's sideEffects marks src/ side-effect free)
  const entrySource = [
    readFileSync(resolve(root, entry), "utf8"),
    ...sharedList.map((f, i) => `import * as m${i} from ${JSON.stringify(f)};`),
    `export const ${INTERNAL} = { ${sharedList.map((f, i) => `${JSON.stringify(key(f))}: m${i}`).join(", ")} };`,
  ].join("\n");
  await esbuild.build({
    ...options,
    entryPoints: undefined,
    stdin: { contents: entrySource, resolveDir: dirname(resolve(root, entry)), loader: "ts", sourcefile: entry },
    outfile: resolve(options.outdir, eagerFile),
    outdir: undefined,
    plugins: [lazyImportsToOneModule],
  });

  // 3. the optional parts, reading the shared modules from the entry
  const shims = new Map();
  for (const f of sharedList) {
    const names = await exportsOf(esbuild, f, options);
    shims.set(f, [
      `import { ${INTERNAL} as internal } from "./${eagerFile}";`,
      `const m = internal[${JSON.stringify(key(f))}];`,
      names.length ? `export const { ${names.join(", ")} } = m;` : "",
    ].join("\n"));
  }
  // (no source map: the runtime package's installed-size budget has no room for the optional
  // parts' 330 KB of maps; their frames keep their function names, keepNames)
  await esbuild.build({
    ...options,
    sourcemap: false,
    entryPoints: undefined,
    stdin: { contents: lazySource, resolveDir: root, loader: "ts", sourcefile: `${name}-lazy.ts` },
    outfile: resolve(options.outdir, lazyFile),
    outdir: undefined,
    external: [...(options.external ?? []), `./${eagerFile}`],
    plugins: [{
      name: "shared-from-entry",
      setup(b) {
        b.onResolve({ filter: /^\./ }, (args) => {
          const file = resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts"));
          return shims.has(file) ? { path: file, namespace: "shared-from-entry" } : undefined;
        });
        b.onLoad({ filter: /.*/, namespace: "shared-from-entry" }, (args) => ({ contents: shims.get(args.path), loader: "js", resolveDir: options.outdir }));
      },
    }],
  });
}

/** Runtime export names of one source file (type-only exports are gone after esbuild's transform). */
async function exportsOf(esbuild, file, options) {
  const r = await esbuild.build({
    entryPoints: [file], bundle: false, write: false, metafile: true, format: "esm", platform: options.platform, outdir: "/unused", logLevel: "silent",
  });
  return Object.values(r.metafile.outputs)[0].exports;
}
