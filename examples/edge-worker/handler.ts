/**
 * The edge example's request handler, shared by the Cloudflare Worker (worker.ts) and Deno
 * Deploy (deno.ts): a plain `(Request) => Promise<Response>` over the Fetch API, so each
 * platform file only says where the model bundles come from.
 *
 *   POST /predict  {text}                                     -> {score, label}
 *   POST /generate {prompt, steps, temperature?, topK?, seed?} -> {text}
 *   POST /step     {state?, input}                            -> {output, state}
 *   POST /vad      {audio, encoding?, sampleRate?, options?, state?, end?}
 *                                      -> {probabilities, firstFrame, events, state}
 *   GET  /                                                    -> what this service runs
 *
 * Models are loaded on first use and kept for the life of the isolate. Every malformed request
 * gets a 4xx JSON answer `{"error": {"code", "message"}}`; only a fault of the service itself
 * (a model that cannot load, a kernel trap) is a 5xx.
 */
import { loadModel, type Model, type Session, type Tensor } from "rnn-wasm";
import { createVad, type VadOptions } from "rnn-wasm/vad";
import { GENERATE_MODEL, LIMITS, SENTIMENT_MODEL, STREAM_MODEL, VAD_MODEL, sentimentLabels } from "./config.ts";

/** Reads a model bundle by file name (a static asset, a file, an object store...). */
export type BundleSource = (name: string) => Promise<Uint8Array | ArrayBuffer>;

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** RnnWasmError codes that mean "the request was wrong", with their HTTP status. */
const CLIENT_CODES: Record<string, number> = {
  E_ARGUMENT: 400, // e.g. a prompt with no word of the vocabulary
  E_TOKEN_RANGE: 400,
  E_VALUE: 400,
  E_SHAPE: 400,
  E_DTYPE: 400,
  E_STATE_CORRUPT: 400, // a damaged snapshot
  E_STATE_MISMATCH: 409, // a snapshot of another model: it conflicts with this service's model
};

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "access-control-allow-origin": "*",
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

function errorResponse(e: unknown): Response {
  if (e instanceof HttpError) {
    const extra: Record<string, string> = e.status === 405 ? { allow: "POST, OPTIONS" } : {};
    return json(e.status, { error: { code: e.code, message: e.message } }, extra);
  }
  // RnnWasmError: matched by name and code, not instanceof (the class of another realm or copy still counts)
  const err = e as { name?: string; code?: string; message?: string };
  if (err?.name === "RnnWasmError" && typeof err.code === "string" && err.code in CLIENT_CODES) {
    return json(CLIENT_CODES[err.code], { error: { code: err.code, message: err.message } });
  }
  const code = err?.name === "RnnWasmError" && typeof err.code === "string" ? err.code : "E_INTERNAL";
  return json(500, { error: { code, message: String(err?.message ?? e) } });
}

/**
 * Reads and drops the rest of a refused body, up to a bound, then cancels. workerd closes the
 * connection as soon as the response is sent, so a client still writing a slightly oversized
 * body would see a reset (EPIPE) instead of the 413; a bounded drain ("lingering close") lets
 * it read the answer, and the bound keeps a hostile upload from costing more than that.
 */
async function discardBody(reader: ReadableStreamDefaultReader<Uint8Array>, already: number): Promise<void> {
  let bytes = already;
  try {
    while (bytes <= LIMITS.discardBytes) {
      const { done, value } = await reader.read();
      if (done) return;
      bytes += value.byteLength;
    }
  } catch {
    return;
  }
  await reader.cancel().catch(() => undefined);
}

/** The body as JSON, with the checks a public endpoint needs before it parses anything. */
async function readJsonObject(request: Request, maxBytes: number = LIMITS.bodyBytes): Promise<Record<string, unknown>> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError(415, "E_CONTENT_TYPE", `send the body as application/json, received content-type ${JSON.stringify(type || "(none)")}`);
  }
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    if (request.body) await discardBody(request.body.getReader(), 0);
    throw new HttpError(413, "E_TOO_LARGE", `the body is ${declared} bytes; the limit is ${maxBytes}`);
  }
  // read at most the limit, also when no content-length was sent (chunked bodies)
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > maxBytes) {
        await discardBody(reader, bytes);
        throw new HttpError(413, "E_TOO_LARGE", `the body exceeds the limit of ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  const all = new Uint8Array(bytes);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(all));
  } catch (e) {
    const why = bytes === 0 ? "the body is empty" : (e as Error).message;
    throw new HttpError(400, "E_BAD_JSON", `the body is not valid JSON: ${why}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "E_BAD_JSON", `the body must be a JSON object, received ${Array.isArray(value) ? "an array" : value === null ? "null" : typeof value}`);
  }
  return value as Record<string, unknown>;
}

// ------------------------------------------------------------------------- field checks

const show = (v: unknown) => (v === undefined ? "nothing" : JSON.stringify(v));

function field(body: Record<string, unknown>, name: string, type: "string" | "number" | "boolean", required: boolean): unknown {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw new HttpError(400, "E_FIELD", `field "${name}" (${type}) is required`);
    return undefined;
  }
  if (typeof v !== type) throw new HttpError(400, "E_FIELD", `field "${name}" must be a ${type}, received ${show(v)}`);
  return v;
}

function text(body: Record<string, unknown>, name: string, maxChars: number): string {
  const s = field(body, name, "string", true) as string;
  if (s.trim().length === 0) throw new HttpError(400, "E_RANGE", `field "${name}" is empty`);
  if (s.length > maxChars) throw new HttpError(400, "E_RANGE", `field "${name}" has ${s.length} characters; the limit is ${maxChars}`);
  return s;
}

function integer(body: Record<string, unknown>, name: string, min: number, max: number, required: boolean): number | undefined {
  const v = field(body, name, "number", required) as number | undefined;
  if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) {
    throw new HttpError(400, "E_RANGE", `field "${name}" must be an integer in [${min}, ${max}], received ${show(v)}`);
  }
  return v;
}

function fromBase64(s: string, what = `field "state" must be the base64 snapshot returned by /step`, code = "E_STATE_CORRUPT"): Uint8Array {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
    throw new HttpError(400, code, what);
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin);
}

/** The segmentation settings a /vad caller may choose (rnn-wasm/vad's rules, silero or vad-web). */
const VAD_OPTIONS = new Set([
  "rules", "threshold", "negThreshold", "minSpeechMs", "minSilenceMs", "speechPadMs", "maxSpeechMs", "minSilenceAtMaxSpeechMs", "useMaxPossibleSilenceAtMaxSpeech",
  "positiveSpeechThreshold", "negativeSpeechThreshold", "redemptionMs", "preSpeechPadMs",
]);

// ------------------------------------------------------------------------------- models


/** Loads once per isolate; a failed load is retried by the next request instead of cached. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () =>
    (p ??= make().catch((e) => {
      p = undefined;
      throw e;
    }));
}

export function createHandler(readBundle: BundleSource): (request: Request) => Promise<Response> {
  const load = (name: string) => async (): Promise<Model> => {
    let bytes: Uint8Array | ArrayBuffer;
    try {
      bytes = await readBundle(name);
    } catch (e) {
      throw new HttpError(503, "E_MODEL_UNAVAILABLE", `model ${name} could not be read: ${(e as Error).message}`);
    }
    return loadModel(bytes);
  };
  const sentiment = once(load(SENTIMENT_MODEL));
  const generator = once(load(GENERATE_MODEL));
  // one session per isolate serves every /step request: between setState and getState the
  // handler never awaits, so concurrent requests cannot interleave on it
  const stream = once(async (): Promise<{ model: Model; session: Session }> => {
    const model = await load(STREAM_MODEL)();
    return { model, session: model.createSession() };
  });
  const vadModel = once(load(VAD_MODEL));
  const simdHeader = (m: Model) => ({ "x-rnn-wasm-simd": m.simd });

  async function predict(body: Record<string, unknown>): Promise<Response> {
    const t = text(body, "text", LIMITS.textChars);
    const model = await sentiment();
    const ids = model.tokenizer!.encode(t); // Keras texts_to_sequences + pad_sequences, as trained
    const score = (model.predict({ data: ids, shape: [1, ids.length] }) as Tensor).data[0];
    const labels = sentimentLabels(model.metadata);
    return json(200, { score, label: score >= 0.5 ? labels[1] : labels[0] }, simdHeader(model));
  }

  async function generate(body: Record<string, unknown>): Promise<Response> {
    const prompt = text(body, "prompt", LIMITS.promptChars);
    const steps = integer(body, "steps", 1, LIMITS.steps, true)!;
    const temperature = field(body, "temperature", "number", false) as number | undefined;
    if (temperature !== undefined && !(temperature >= 0 && temperature <= LIMITS.temperature)) {
      throw new HttpError(400, "E_RANGE", `field "temperature" must be in [0, ${LIMITS.temperature}], received ${show(temperature)}`);
    }
    const seed = integer(body, "seed", 0, 2 ** 32 - 1, false);
    const topK = integer(body, "topK", 0, 100_000, false);
    const model = await generator();
    const out = model.generate(prompt, { steps, temperature, topK, seed }) as string;
    return json(200, { text: out }, simdHeader(model));
  }

  async function step(body: Record<string, unknown>): Promise<Response> {
    const input = body.input;
    let values: number[];
    if (typeof input === "number") values = [input];
    else if (Array.isArray(input)) {
      if (input.length === 0 || input.length > LIMITS.stepInputs) {
        throw new HttpError(400, "E_RANGE", `field "input" must hold 1 to ${LIMITS.stepInputs} numbers, received ${input.length}`);
      }
      const bad = input.findIndex((v) => typeof v !== "number");
      if (bad >= 0) throw new HttpError(400, "E_FIELD", `field "input" must hold numbers; element ${bad} is ${show(input[bad])}`);
      values = input as number[];
    } else throw new HttpError(400, "E_FIELD", `field "input" (a number or an array of numbers) is required, received ${show(input)}`);
    const state = field(body, "state", "string", false) as string | undefined;
    const snapshot = state === undefined ? undefined : fromBase64(state);
    const { model, session } = await stream();
    // from here on synchronous: restore, step, snapshot
    if (snapshot) session.setState(snapshot);
    else session.reset();
    let output: number | number[];
    if (typeof input === "number") output = (session.step([[input]]) as Tensor).data[0];
    else output = Array.from((session.run({ data: Float32Array.from(values), shape: [1, values.length, 1] }) as Tensor).data);
    return json(200, { output, state: toBase64(session.getState()) }, simdHeader(model));
  }

  /**
   * One chunk of a stream whose state travels with the caller: restore the snapshot (or start a
   * stream with the given options), run the audio, answer the frames' probabilities, the events
   * and the next snapshot. Nothing is kept between requests (any isolate serves any chunk).
   */
  async function vad(body: Record<string, unknown>): Promise<Response> {
    const encoding = field(body, "encoding", "string", false) ?? "s16le";
    if (encoding !== "s16le" && encoding !== "f32le") throw new HttpError(400, "E_FIELD", `field "encoding" must be "s16le" or "f32le", received ${show(encoding)}`);
    const pcm = fromBase64(field(body, "audio", "string", true) as string, `field "audio" must be base64 PCM (${encoding})`, "E_FIELD");
    const width = encoding === "s16le" ? 2 : 4;
    if (pcm.length % width) throw new HttpError(400, "E_FIELD", `field "audio" holds ${pcm.length} bytes, not whole ${encoding} samples`);
    const state = field(body, "state", "string", false) as string | undefined;
    const options = body.options;
    if (options !== undefined && (typeof options !== "object" || options === null || Array.isArray(options))) throw new HttpError(400, "E_FIELD", `field "options" must be an object, received ${show(options)}`);
    const unknown = Object.keys(options ?? {}).filter((k) => !VAD_OPTIONS.has(k));
    if (unknown.length) throw new HttpError(400, "E_FIELD", `field "options" may set ${[...VAD_OPTIONS].join(", ")}; not ${unknown.join(", ")}`);
    const sampleRate = integer(body, "sampleRate", 8000, 48000, false);
    if (state !== undefined && (options !== undefined || sampleRate !== undefined)) {
      throw new HttpError(400, "E_FIELD", "a stream's options and sampleRate are set by its first chunk; later chunks send only the state");
    }
    const end = field(body, "end", "boolean", false) as boolean | undefined;
    const samples = width === 2 ? new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2) : new Float32Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length));
    const model = await vadModel();
    // synchronous from here on: a stream is created, fed and snapshotted within one turn
    const stream = createVad(model, { ...(options as VadOptions), ...(sampleRate ? { sampleRate } : {}), segmentAudio: false }, state === undefined ? undefined : fromBase64(state, `field "state" must be the base64 state returned by /vad`));
    try {
      const rate = stream.stream.sampleRate;
      if (samples.length > rate * LIMITS.vadSeconds) throw new HttpError(400, "E_RANGE", `field "audio" holds ${samples.length} samples; the limit is ${LIMITS.vadSeconds} s (${rate * LIMITS.vadSeconds} at ${rate} Hz)`);
      const u = stream.push(samples);
      const probabilities = Array.from(u.probabilities);
      const events = [...u.events];
      if (end) {
        const last = stream.end();
        probabilities.push(...last.probabilities);
        events.push(...last.events);
      }
      return json(200, { probabilities, firstFrame: u.firstFrame, events, state: end ? null : toBase64(stream.snapshot()) }, simdHeader(model));
    } finally {
      stream.dispose();
    }
  }

  const routes: Record<string, (body: Record<string, unknown>) => Promise<Response>> = {
    "/predict": predict,
    "/generate": generate,
    "/step": step,
    "/vad": vad,
  };

  return async (request: Request): Promise<Response> => {
    try {
      const { pathname } = new URL(request.url);
      if (pathname === "/" && (request.method === "GET" || request.method === "HEAD")) {
        return json(200, {
          service: "rnn-wasm edge example",
          routes: ["POST /predict {text}", "POST /generate {prompt, steps, temperature?, topK?, seed?}", "POST /step {state?, input}", "POST /vad {audio, encoding?, sampleRate?, options?, state?, end?}"],
          models: { predict: SENTIMENT_MODEL, generate: GENERATE_MODEL, step: STREAM_MODEL, vad: VAD_MODEL },
          limits: LIMITS,
        });
      }
      const route = routes[pathname];
      if (!route) throw new HttpError(404, "E_NOT_FOUND", `no route ${pathname}; try POST /predict, /generate, /step or /vad`);
      if (request.method === "OPTIONS") {
        return new Response(null, {
          status: 204,
          headers: { "access-control-allow-origin": "*", "access-control-allow-methods": "POST, OPTIONS", "access-control-allow-headers": "content-type", "access-control-max-age": "86400" },
        });
      }
      if (request.method !== "POST") throw new HttpError(405, "E_METHOD", `${pathname} answers POST, received ${request.method}`);
      return await route(await readJsonObject(request, pathname === "/vad" ? LIMITS.vadBodyBytes : LIMITS.bodyBytes));
    } catch (e) {
      return errorResponse(e);
    }
  };
}
