// rnn-wasm in Node: load a bundle, predict.   node predict.mjs model.rnnb "some text"
import { loadModel } from "rnn-wasm";

const [bundle, text = "the quick brown fox jumps over the lazy dog"] = process.argv.slice(2);
if (!bundle) throw new Error("usage: node predict.mjs <model.rnnb> [text]");
const model = await loadModel(bundle); // a path, a URL, or the bundle's bytes
const ids = model.tokenizer.encode(text); // the vocabulary travels inside the bundle
const y = model.predict({ data: ids, shape: [1, ids.length] }); // batch first, like tfjs
console.log(JSON.stringify({ text, ids: Array.from(ids), output: Array.from(y.data), simd: model.simd }));
model.dispose();
