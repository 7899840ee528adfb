/** A model file of any kind (bundle, model.json, .h5, .keras) loaded to run, for predict and generate. */
import { loadModel, type Model } from "../../src/index.js";
import { withSource } from "./errors.js";
import { bundleBytesOf, readModelFile } from "./source.js";

export async function loadAnyModel(file: string): Promise<Model> {
  const m = await readModelFile(file);
  try {
    return await loadModel(bundleBytesOf(m, "f32"));
  } catch (e) {
    throw withSource(e, file);
  }
}
