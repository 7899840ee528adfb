/** model.json over HTTP: the file, then its shards resolved against its URL. */
import { RnnWasmError } from "../errors.js";
import { fetchOk } from "../io.js";
import { manifestPaths } from "./manifest.js";

export async function fetchArtifacts(url: URL): Promise<{ modelJson: object; weights: ArrayBuffer[]; name: string }> {
  const modelJson = await (await fetchOk(url)).json().catch((e: Error) => {
    throw new RnnWasmError("E_MODEL_JSON", `${url.href} is not valid JSON: ${e.message}`, { cause: e });
  });
  const weights = await Promise.all(manifestPaths(modelJson).map(async (p) => (await fetchOk(new URL(p, url))).arrayBuffer()));
  return { modelJson, weights, name: url.href };
}
