/** A text as the input of a model whose bundle carries a vocabulary, for predict --text and generate. */
import { RnnWasmError } from "../../src/errors.js";
import type { Model, Tensor } from "../../src/index.js";

/**
 * The tokenizer's padded ids in the form the model reads them: int32 [1, T] for an Embedding,
 * or floats [1, T, 1] for a model trained on ids as numbers (the Aesop next-word model).
 */
export function textInput(model: Model, text: string, file: string): Tensor {
  if (!model.tokenizer) {
    throw new RnnWasmError("E_ARGUMENT", `${file} carries no tokenizer, so a text cannot be encoded; export it with --tokenizer vocab.json, or pass ids with --input`);
  }
  const ids = model.tokenizer.encode(text);
  const inp = model.inputs[0];
  if (inp.dtype === "int32") return { data: ids, shape: [1, ids.length] };
  if (inp.shape.length === 3 && inp.shape[2] === 1) return { data: Float32Array.from(ids), shape: [1, ids.length, 1] };
  throw new RnnWasmError("E_ARGUMENT", `${file}: input ${inp.name} [${inp.shape.map((d) => d ?? "?").join(", ")}] takes neither token ids nor ids as floats [batch, time, 1]; pass it with --input`);
}
