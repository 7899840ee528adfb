/**
 * Cloudflare Worker (`wrangler deploy`). `import "rnn-wasm"` resolves through the package's
 * "workerd" export condition, whose two kernel builds are `.wasm` imports: wrangler uploads them
 * as compiled wasm modules (Workers may not compile wasm from bytes at run time). The model
 * bundles are static assets (wrangler.toml [assets]) read through the ASSETS binding.
 */
import { createHandler } from "./handler.ts";

interface Env {
  /** The [assets] binding: a fetcher over the models folder (GET /<file name>). */
  ASSETS: { fetch(input: Request | string): Promise<Response> };
}

let handle: ((request: Request) => Promise<Response>) | undefined;

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    // env is the same object for every request of an isolate: the handler and its models are built once
    handle ??= createHandler(async (name) => {
      const res = await env.ASSETS.fetch(new Request(new URL(name, "https://assets.local/")));
      if (!res.ok) throw new Error(`the assets binding answered ${res.status} for ${name}`);
      return new Uint8Array(await res.arrayBuffer());
    });
    return handle(request);
  },
};
