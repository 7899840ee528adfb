/**
 * The oracle for rnn-wasm/vad: silero-vad's own loop, written from its documentation and
 * utils_vad.py's semantics (OnnxWrapper.__call__ and get_speech_timestamps), independently of
 * src/vad/: onnxruntime-node runs the ONNX file frame by frame (context in front, state carried,
 * the last short chunk zero-padded), and get_speech_timestamps' offline rules turn the whole
 * list of probabilities into segments.
 */
import * as ort from "onnxruntime-node";

export interface ReferenceOptions {
  threshold?: number;
  negThreshold?: number;
  minSpeechMs?: number;
  maxSpeechMs?: number;
  minSilenceMs?: number;
  speechPadMs?: number;
  minSilenceAtMaxSpeechMs?: number;
  useMaxPossibleSilenceAtMaxSpeech?: boolean;
}

export interface ReferenceSegment {
  start: number;
  end: number;
}

/** OnnxWrapper's frame and context sizes; the legacy v4 graph takes bare frames and h, c. */
export function sileroFraming(sampleRate: number, legacy: boolean): { window: number; context: number } {
  const window = sampleRate === 16000 ? 512 : 256;
  return { window, context: legacy ? 0 : sampleRate === 16000 ? 64 : 32 };
}

/** Speech probability of every window, as get_speech_timestamps computes them (model.reset_states() first). */
export async function referenceProbabilities(onnx: Uint8Array, audio: Float32Array, sampleRate: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const names = new Set(session.inputNames);
    const legacy = names.has("h");
    const { window, context } = sileroFraming(sampleRate, legacy);
    const sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(sampleRate)]), []);
    let state: ort.Tensor = new ort.Tensor("float32", new Float32Array(2 * 128), [2, 1, 128]);
    let h: ort.Tensor = new ort.Tensor("float32", new Float32Array(2 * 64), [2, 1, 64]);
    let c: ort.Tensor = new ort.Tensor("float32", new Float32Array(2 * 64), [2, 1, 64]);
    let ctx = new Float32Array(context);
    const probs: number[] = [];
    for (let at = 0; at < audio.length; at += window) {
      const x = new Float32Array(context + window); // zero-padded when the chunk is short
      x.set(ctx);
      x.set(audio.subarray(at, at + window), context);
      const feeds: Record<string, ort.Tensor> = { input: new ort.Tensor("float32", x, [1, x.length]) };
      if (names.has("sr")) feeds.sr = sr;
      if (legacy) Object.assign(feeds, { h, c });
      else feeds.state = state;
      const out = await session.run(feeds);
      if (legacy) {
        h = out.hn as ort.Tensor;
        c = out.cn as ort.Tensor;
      } else state = out.stateN as ort.Tensor;
      ctx = x.slice(x.length - context);
      probs.push((out.output.data as Float32Array)[0]);
    }
    return Float32Array.from(probs);
  } finally {
    await session.release();
  }
}

/** get_speech_timestamps' rules over the whole list of probabilities (samples, not seconds). */
export function referenceSegments(probs: ArrayLike<number>, audioLength: number, sampleRate: number, window: number, o: ReferenceOptions = {}): ReferenceSegment[] {
  const threshold = o.threshold ?? 0.5;
  const negThreshold = o.negThreshold ?? Math.max(threshold - 0.15, 0.01);
  const minSpeech = (sampleRate * (o.minSpeechMs ?? 250)) / 1000;
  const pad = (sampleRate * (o.speechPadMs ?? 30)) / 1000;
  const maxSpeech = sampleRate * ((o.maxSpeechMs ?? Infinity) / 1000) - window - 2 * pad;
  const minSilence = (sampleRate * (o.minSilenceMs ?? 100)) / 1000;
  const minSilenceAtMax = (sampleRate * (o.minSilenceAtMaxSpeechMs ?? 98)) / 1000;
  const useMax = o.useMaxPossibleSilenceAtMaxSpeech ?? true;

  let triggered = false;
  const speeches: { start: number; end: number }[] = [];
  let current: { start?: number; end?: number } = {};
  let tempEnd = 0;
  let prevEnd = 0;
  let nextStart = 0;
  let possibleEnds: [number, number][] = [];
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    const cur = window * i;
    if (p >= threshold && tempEnd) {
      const silDur = cur - tempEnd;
      if (silDur > minSilenceAtMax) possibleEnds.push([tempEnd, silDur]);
      tempEnd = 0;
      if (nextStart < prevEnd) nextStart = cur;
    }
    if (p >= threshold && !triggered) {
      triggered = true;
      current.start = cur;
      continue;
    }
    if (triggered && cur - current.start! > maxSpeech) {
      if (possibleEnds.length) {
        let best: [number, number];
        if (useMax) {
          best = possibleEnds[0];
          for (const e of possibleEnds) if (e[1] > best[1]) best = e;
        } else best = possibleEnds[possibleEnds.length - 1];
        prevEnd = best[0];
        const dur = best[1];
        current.end = prevEnd;
        speeches.push(current as ReferenceSegment);
        current = {};
        nextStart = prevEnd + dur;
        if (nextStart < prevEnd + cur) current.start = nextStart;
        else triggered = false;
        possibleEnds = possibleEnds.filter((e) => e[0] > nextStart);
        prevEnd = nextStart = tempEnd = 0;
      } else {
        current.end = cur;
        speeches.push(current as ReferenceSegment);
        current = {};
        prevEnd = nextStart = tempEnd = 0;
        triggered = false;
        possibleEnds = [];
        continue;
      }
    }
    if (p < negThreshold && triggered) {
      if (!tempEnd) tempEnd = cur;
      if (cur - tempEnd < minSilence) continue;
      current.end = tempEnd;
      if (current.end - current.start! > minSpeech) speeches.push(current as ReferenceSegment);
      current = {};
      prevEnd = nextStart = tempEnd = 0;
      triggered = false;
      possibleEnds = [];
    }
  }
  if (current.start !== undefined && audioLength - current.start > minSpeech) {
    current.end = audioLength;
    speeches.push(current as ReferenceSegment);
  }
  // Python's int() of a non-negative float is its floor; // of integers is floor division
  for (let i = 0; i < speeches.length; i++) {
    const s = speeches[i];
    if (i === 0) s.start = Math.floor(Math.max(0, s.start - pad));
    if (i !== speeches.length - 1) {
      const silence = speeches[i + 1].start - s.end;
      if (silence < 2 * pad) {
        s.end += Math.floor(silence / 2);
        speeches[i + 1].start = Math.floor(Math.max(0, speeches[i + 1].start - Math.floor(silence / 2)));
      } else {
        s.end = Math.floor(Math.min(audioLength, s.end + pad));
        speeches[i + 1].start = Math.floor(Math.max(0, speeches[i + 1].start - pad));
      }
    } else s.end = Math.floor(Math.min(audioLength, s.end + pad));
  }
  return speeches;
}
