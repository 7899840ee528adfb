// rnn-wasm in Node: load a bundle, predict.
//   node predict.mjs model.rnnb "some text"          a bundle with a vocabulary encodes the text
//   node predict.mjs model.rnnb '[[[0.1], [0.2]]]'   any other bundle takes the input as JSON (batch first)
import { loadModel } from "rnn-wasm";

const [bundle, input = "the quick brown fox jumps over the lazy dog"] = process.argv.slice(2);
if (!bundle) {
  console.error("usage: node predict.mjs <model.rnnb> [text | JSON input]");
  process.exit(2);
}
const model = await loadModel(bundle); // a path, a URL, or the bundle's bytes
let ids; // the token ids, for models that read text
let x;
if (model.tokenizer) {
  ids = model.tokenizer.encode(input); // the vocabulary travels inside the bundle
  x = { data: ids, shape: [1, ids.length] }; // batch first, like tfjs
} else {
  try {
    x = JSON.parse(input); // nested arrays, or {"<input name>": ...}
  } catch {
    console.error(`${bundle} carries no vocabulary, so the input must be JSON (nested arrays, batch first; inputs: ${JSON.stringify(model.inputs)})`);
    process.exit(2);
  }
}
const y = model.predict(x);
const outputs = (Array.isArray(y) ? y : [y]).map((t) => Array.from(t.data));
console.log(JSON.stringify({ input, ids: ids && Array.from(ids), output: outputs.length === 1 ? outputs[0] : outputs, simd: model.simd }));
model.dispose();
