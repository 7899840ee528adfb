// The main job (`npm run demo`): runs the demo models shipped in models/ — the embedded
// defaults — through the built package (dist/), and says what it did and how long it took.
import { readFileSync } from "node:fs";
import { loadModel } from "../dist/node.js";

const model = (name) => new URL(`../models/${name}`, import.meta.url);
const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
const time = (fn) => {
  const t0 = performance.now();
  const value = fn();
  return [value, performance.now() - t0];
};

async function load(name) {
  const t0 = performance.now();
  const bytes = readFileSync(model(name));
  const m = await loadModel(bytes);
  const ms = performance.now() - t0;
  console.log(`  loaded ${name} (${(bytes.length / 1024).toFixed(0)} KiB) in ${ms.toFixed(1)} ms, ${m.simd} SIMD build`);
  return m;
}

console.log("rnn-wasm demo: the shipped models, on this machine\n");

// 1. Next word: the Aesop fable model (LSTM 512 x2 over a 3-word window), greedy
console.log("1. Next-word generation (Aesop, 'Belling the Cat')");
{
  const m = await load("aesop-next-word.rnnb");
  const prompt = "had a general";
  const [text, ms] = time(() => m.generate(prompt, { steps: 24 }));
  console.log(`  "${prompt}" -> "${text}"`);
  console.log(`  24 words in ${ms.toFixed(1)} ms (${us(ms / 24)} per word, one predict each)`);
  const [sampled] = time(() => m.generate(prompt, { steps: 12, temperature: 0.8, topK: 5, seed: 7 }));
  console.log(`  sampled (temperature 0.8, top-5, seed 7): "${sampled}"`);
  m.dispose();
}

// 2. Sentiment: StockTwits $SPY model and the UCI sentences model
console.log("\n2. Sentiment");
for (const [name, sentences] of [
  ["stocktwits-sentiment.rnnb", ["$SPY breaking out, loading up on calls", "selling everything, this market is going to crash hard", "@trader great call on $AAPL today, up 5%"]],
  ["uci-sentiment.rnnb", ["This phone is great, the battery lasts for days", "Terrible service and the food was cold", "I would not recommend this movie to anyone"]],
]) {
  let m;
  try {
    m = await load(name);
  } catch (e) {
    console.log(`  ${name}: ${e.message}`);
    continue;
  }
  for (const s of sentences) {
    const ids = m.tokenizer.encode(s);
    const [y, ms] = time(() => m.predict({ data: ids, shape: [1, ids.length] }));
    console.log(`  ${y.data[0].toFixed(3)}  ${y.data[0] >= 0.5 ? "positive" : "negative"}  "${s}"  (${us(ms)})`);
  }
  // streaming: the score after each word, through a session (one step per token). The models
  // were trained on sequences padded in front (pad_sequences' default), so the session steps
  // the padded ids, zeros first: its last score is exactly what predict gave
  const s = sentences[0];
  const session = m.createSession();
  const scores = [];
  let stepMs = 0;
  let last;
  const ids = m.tokenizer.encode(s);
  for (const id of ids) {
    const [y, ms] = time(() => session.step({ data: Int32Array.of(id), shape: [1] }));
    stepMs += ms;
    last = y.data[0];
    if (id !== 0) scores.push(`${m.tokenizer.decode([id])}:${last.toFixed(2)}`);
  }
  const whole = m.predict({ data: ids, shape: [1, ids.length] }).data[0];
  console.log(`  streaming "${s}": ${scores.join(" ")} (${us(stepMs / ids.length)} per step; the last equals predict: ${last === whole})`);
  m.dispose();
}

// 3. Time series: the sine model, streamed one value at a time (state carried)
console.log("\n3. Streaming regression: predict cos(t) from sin(t), one step at a time");
{
  const m = await load("sine.rnnb");
  const session = m.createSession();
  const w = 1 / (10 * Math.PI);
  let se = 0;
  let n = 0;
  let total = 0;
  const line = [];
  for (let t = 0; t < 400; t++) {
    const [y, ms] = time(() => session.step([[Math.sin(t * w)]]));
    total += ms;
    if (t >= 20) {
      se += (y.data[0] - Math.cos(t * w)) ** 2;
      n++;
    }
    if (t % 25 === 0) line.push(`${y.data[0] >= 0 ? "+" : ""}${y.data[0].toFixed(2)}`);
  }
  console.log(`  every 25th prediction: ${line.join(" ")}`);
  console.log(`  mean squared error after warm-up: ${(se / n).toExponential(2)} over ${n} steps, ${us(total / 400)} per step`);
  const snapshot = session.getState();
  console.log(`  session snapshot for a key-value store: ${snapshot.length} bytes`);
  m.dispose();
}
