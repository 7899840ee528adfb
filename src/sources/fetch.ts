/**
 * Models named by URL (any runtime with fetch): a bundle's bytes, or a model.json with its
 * shards. Every body is read as a stream against a bound (a bundle or model.json: a fixed
 * limit; a shard: the bytes its manifest group describes), and shards are fetched only from
 * the model's own origin and folder (`trustShardPaths` lifts that rule) — the same rules as
 * files.ts for paths.
 */
import { fail } from "../errors.js";
import { checkJsonTree } from "../json.js";
import { MAX_JSON_FILE_BYTES, MAX_MODEL_FILE_BYTES, type SourceOptions } from "./limits.js";
import { shardGroups } from "./manifest.js";

/** Fetches a URL, failing with E_IO. */
async function fetchOk(u: URL): Promise<Response> {
  const res = await fetch(u).catch((e) => {
    fail("E_IO", `could not fetch ${u}: ${(e as Error).message}`, e);
  });
  if (!res.ok) fail("E_IO", `could not fetch ${u}: HTTP ${res.status}`);
  return res;
}

/** The body of `url`, failing (with `tooLarge`) as soon as it passes `maxBytes`. */
export async function fetchBounded(url: URL, what: string, maxBytes: number, tooLarge: "E_IO" | "E_WEIGHTS" = "E_IO"): Promise<Uint8Array> {
  const res = await fetchOk(url);
  const over = () => fail(tooLarge, `${what} ${url.href} holds more than the ${maxBytes} bytes it may`);
  if (Number(res.headers.get("content-length")) > maxBytes) {
    await res.body?.cancel();
    over();
  }
  if (!res.body) return new Uint8Array(await res.arrayBuffer()); // (runtimes without streams)
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    total += r.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      over();
    }
    parts.push(r.value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) out.set(p, (at += p.byteLength) - p.byteLength);
  return out;
}

/** Bundle bytes, or the artifacts of a model.json (by its extension), from a URL or a string relative to the page. */
export async function fetchSource(source: string | URL, options: SourceOptions): Promise<Uint8Array | { modelJson: Record<string, unknown>; weights: ArrayBuffer[]; name: string }> {
  let url: URL;
  try {
    url = new URL(source, (globalThis as { location?: { href: string } }).location?.href);
  } catch (e) {
    fail("E_ARGUMENT", `loadModel: ${JSON.stringify(String(source))} is not a URL (and this runtime reads no paths)`, e);
  }
  if (!url.pathname.endsWith(".json")) return fetchBounded(url, "model", MAX_MODEL_FILE_BYTES);
  const text = new TextDecoder().decode(await fetchBounded(url, "model.json", MAX_JSON_FILE_BYTES));
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(text);
  } catch (e) {
    fail("E_MODEL_JSON", `${url.href} is not valid JSON: ${(e as Error).message}`, e);
  }
  checkJsonTree(modelJson, url.href, "E_MODEL_JSON");
  if (typeof modelJson !== "object" || modelJson === null || Array.isArray(modelJson)) fail("E_MODEL_JSON", `${url.href}: expected a JSON object`);
  const json = modelJson as Record<string, unknown>;
  const folder = new URL(".", url);
  const weights: ArrayBuffer[] = [];
  for (const group of shardGroups(json, url.href)) {
    let left = group.bytes;
    for (const p of group.paths) {
      const shard = new URL(p, url);
      if (!options.trustShardPaths && (shard.origin !== folder.origin || shard.protocol !== folder.protocol || !shard.pathname.startsWith(folder.pathname))) {
        fail("E_MODEL_JSON", `${url.href}: weight shard ${JSON.stringify(p)} is outside the model's folder ${folder.href} (pass trustShardPaths: true for a model.json you trust)`);
      }
      const bytes = await fetchBounded(shard, "weight shard", left, "E_WEIGHTS");
      left -= bytes.length;
      weights.push(bytes.buffer as ArrayBuffer);
    }
  }
  return { modelJson: json, weights, name: url.href };
}
