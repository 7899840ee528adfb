// rnn-wasm in ten lines: load a bundle, predict a sequence, then stream it one step at a time.
import { loadModel } from "rnn-wasm";

const bundle = new URL(import.meta.resolve("rnn-wasm-tools/models/sine.rnnb")); // a demo model of the tools package
const model = await loadModel(bundle); // a path, a URL, or the bundle's bytes
const xs = Array.from({ length: 60 }, (_, t) => Math.sin(t / (10 * Math.PI))); // sin in, the model answers cos
const predicted = model.predict({ data: Float32Array.from(xs), shape: [1, xs.length, 1] }); // batch first, like tfjs
const session = model.createSession(); // streaming: the LSTM state stays in the session between steps
const streamed = xs.map((x) => session.step([[x]]).data[0]); // one value in, one out, as the data arrives
const snapshot = session.getState(); // portable bytes: session.setState(snapshot) resumes here, in any runtime
console.log(JSON.stringify({ simd: model.simd, predicted: Array.from(predicted.data), streamed, snapshotBytes: snapshot.length }));
