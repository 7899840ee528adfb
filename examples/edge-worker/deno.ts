/**
 * Deno and Deno Deploy: `deno run --allow-net --allow-read --allow-env=PORT deno.ts`.
 * `import "rnn-wasm"` resolves through the package's "deno" export condition, which reads the
 * kernel builds from next to itself; the model bundles are read from MODELS below.
 */
import { createHandler } from "./handler.ts";

/** Where the .rnnb files are: the repository's models/ folder (in your project, e.g. "./models/"). */
const MODELS = new URL("../../models/", import.meta.url);

const handler = createHandler((name) => Deno.readFile(new URL(name, MODELS)));

// Deno Deploy picks the address itself; locally PORT (default 8000) on 127.0.0.1
Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 8000) }, handler);
