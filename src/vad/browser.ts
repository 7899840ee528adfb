/**
 * rnn-wasm/vad in the browser: the page's side of the audio-thread host and the worker host
 * (both in dist/vad-host.js), and a one-call microphone helper.
 *
 * ```js
 * import { MicVad } from "rnn-wasm/vad";
 * const mic = await MicVad.start({ model: "/models/silero-vad-v5-16k.rnnb", onSegment: (s) => ... });
 * mic.pause(); mic.resume(); await mic.destroy();
 * ```
 *
 * The page compiles the kernels once (compileStreaming: CSP needs 'wasm-unsafe-eval') and hands
 * the module and the model's bytes to the host, which instantiates them at once and fetches
 * nothing: no blob: or data: URLs, no eval, so `script-src 'self' 'wasm-unsafe-eval'` is enough.
 */
import { engineHasRelaxedSimd, RnnWasmError } from "../index.js";
import type { HostCommand, HostInit, HostMessage } from "./host.js";
import type { VadEvent, VadOptions, VadUpdate } from "./index.js";

export * from "./index.js";

export type BytesSource = Uint8Array | ArrayBuffer | string | URL;

/** Omit over each member of a union (the rules' option sets). */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type VadNodeOptions = OmitEach<VadOptions, "sampleRate"> & {
  /** The .rnnb bundle: bytes or a URL (e.g. the package's models/silero-vad-v5-16k.rnnb, served by you). */
  model: BytesSource;
  /** The kernel module or its URL (default: the build beside this file, relaxed SIMD when the engine has it). */
  wasm?: WebAssembly.Module | string | URL;
  /** Where the model runs: in the audio thread (default) or in a Web Worker fed by the audio thread. */
  host?: "worklet" | "worker";
  workletUrl?: string | URL;
  workerUrl?: string | URL;
  /** Also deliver the mono audio the VAD receives (onAudio). */
  captureAudio?: boolean;
  /** A recording's length in samples: the rest of its last render quantum is not fed to the VAD. */
  length?: number;
  onUpdate?(u: VadUpdate): void;
  onSpeechStart?(e: Extract<VadEvent, { type: "speechStart" }>): void;
  onSegment?(e: Extract<VadEvent, { type: "segment" }>): void;
  onMisfire?(e: Extract<VadEvent, { type: "misfire" }>): void;
  onAudio?(samples: Float32Array, at: number): void;
  /** Input the audio thread lost (zeros stood in), and its load reports. */
  onGap?(samples: number, at: number): void;
  onLoad?(load: { maxMs: number; late: number; quanta: number }): void;
  onError?(e: RnnWasmError): void;
};

/** The kernel module for the hosts: compiled once per URL on this page. */
const compiled = new Map<string, Promise<WebAssembly.Module>>();
export function compileKernels(wasm?: WebAssembly.Module | string | URL): Promise<WebAssembly.Module> {
  if (wasm instanceof WebAssembly.Module) return Promise.resolve(wasm);
  // (the literal new URL("./x", import.meta.url) form lets bundlers emit the files as assets)
  const url = String(wasm ?? (engineHasRelaxedSimd() ? new URL("./rnn-relaxed.wasm", import.meta.url) : new URL("./rnn-simd.wasm", import.meta.url)));
  let p = compiled.get(url);
  if (!p) {
    p = fetchOk(url).then((r) => WebAssembly.compileStreaming(r));
    p.catch(() => compiled.delete(url));
    compiled.set(url, p);
  }
  return p;
}

async function fetchOk(url: string | URL): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new RnnWasmError("E_IO", `fetch ${url}: HTTP ${r.status}`);
  return r;
}

async function bytesOf(src: BytesSource): Promise<Uint8Array> {
  if (src instanceof Uint8Array) return src;
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  return new Uint8Array(await (await fetchOk(src)).arrayBuffer());
}

/** Audio worklet modules added per context (addModule twice is allowed, but costs a fetch). */
const added = new WeakMap<BaseAudioContext, Map<string, Promise<void>>>();
function addWorklet(ctx: BaseAudioContext, url: string): Promise<void> {
  let m = added.get(ctx);
  if (!m) added.set(ctx, (m = new Map()));
  let p = m.get(url);
  if (!p) m.set(url, (p = ctx.audioWorklet.addModule(url)));
  return p;
}

/**
 * A VAD on an AudioContext: connect any source node to `node`. Results arrive through the
 * callbacks; `end()` flushes a finished recording; `dispose()` frees the host and its model.
 */
export class VadNode {
  readonly node: AudioWorkletNode;
  private worker: Worker | null = null;
  private readonly waiters = new Map<string, ((m: HostMessage) => void)[]>();
  private disposed = false;

  private constructor(readonly context: BaseAudioContext, node: AudioWorkletNode, private readonly o: VadNodeOptions) {
    this.node = node;
  }

  static async create(context: BaseAudioContext, options: VadNodeOptions): Promise<VadNode> {
    if (!options || typeof options !== "object" || options.model === undefined) throw new RnnWasmError("E_ARGUMENT", "VadNode: options.model (the .rnnb bytes or URL) is required");
    const hostKind = options.host ?? "worklet";
    if (hostKind !== "worklet" && hostKind !== "worker") throw new RnnWasmError("E_ARGUMENT", `host must be "worklet" or "worker", received ${JSON.stringify(hostKind)}`);
    const { model, wasm, host, workletUrl, workerUrl, captureAudio, length, onUpdate, onSpeechStart, onSegment, onMisfire, onAudio, onGap, onLoad, onError, ...vadOptions } = options;
    void [model, wasm, host, onUpdate, onSpeechStart, onSegment, onMisfire, onAudio, onGap, onLoad, onError];
    const [module, bundle] = await Promise.all([compileKernels(options.wasm), bytesOf(options.model), addWorklet(context, String(workletUrl ?? new URL("./vad-host.js", import.meta.url)))]);
    const init: HostInit = { module, bundle, options: vadOptions, captureAudio, length };
    const inWorklet = hostKind === "worklet";
    const node = new AudioWorkletNode(context, "rnn-vad", {
      numberOfInputs: 1,
      // one silent output, connected to the destination: engines render only nodes the
      // destination pulls (Chromium skips an unconnected node's process())
      numberOfOutputs: 1,
      outputChannelCount: [1],
      channelCount: 1,
      channelCountMode: "explicit", // the graph downmixes to mono before the processor sees it
      processorOptions: inWorklet ? { host: init } : {},
    });
    node.connect(context.destination);
    const v = new VadNode(context, node, options);
    const ready = v.next("ready");
    const onMessage = (e: MessageEvent) => v.receive(e.data as HostMessage);
    node.port.onmessage = onMessage;
    node.onprocessorerror = () => v.receive({ type: "error", code: "E_INTERNAL", message: "the VAD's audio worklet processor failed (see the console)" });
    if (!inWorklet) {
      const worker = (v.worker = workerUrl ? new Worker(workerUrl, { type: "module" }) : new Worker(new URL("./vad-host.js", import.meta.url), { type: "module" }));
      worker.onmessage = onMessage;
      worker.onerror = (e) => v.receive({ type: "error", code: "E_WASM", message: `the VAD worker failed: ${e.message}` });
      const channel = new MessageChannel();
      node.port.postMessage({ type: "connect", port: channel.port1 }, [channel.port1]);
      worker.postMessage({ type: "init", init, sampleRate: context.sampleRate, port: channel.port2 }, [channel.port2]);
    }
    const first = await Promise.race([ready, v.next("error")]);
    if (first.type === "error") {
      v.dispose();
      throw new RnnWasmError(first.code as never, first.message);
    }
    return v;
  }

  private next(type: HostMessage["type"]): Promise<HostMessage> {
    return new Promise((resolve) => {
      const list = this.waiters.get(type) ?? [];
      list.push(resolve);
      this.waiters.set(type, list);
    });
  }

  private receive(m: HostMessage): void {
    const o = this.o;
    const list = this.waiters.get(m.type);
    if (list?.length) {
      this.waiters.delete(m.type);
      for (const r of list) r(m);
    }
    switch (m.type) {
      case "update":
        o.onUpdate?.(m);
        for (const e of m.events) {
          if (e.type === "speechStart") o.onSpeechStart?.(e);
          else if (e.type === "segment") o.onSegment?.(e);
          else o.onMisfire?.(e);
        }
        break;
      case "audio":
        o.onAudio?.(m.samples, m.at);
        break;
      case "gap":
        o.onGap?.(m.samples, m.at);
        break;
      case "load":
        o.onLoad?.(m);
        break;
      case "error":
        if (!list?.length) o.onError?.(new RnnWasmError(m.code as never, m.message));
        break;
    }
  }

  private send(c: HostCommand): void {
    // commands go through the worklet, behind the audio it already forwarded (worker host too)
    this.node.port.postMessage(c);
  }

  pause(): void {
    this.send({ type: "pause" });
  }

  resume(): void {
    this.send({ type: "resume" });
  }

  reset(): void {
    this.send({ type: "reset" });
  }

  /** The recording has ended: resolves once the final events have been delivered. */
  async end(): Promise<void> {
    const ended = this.next("ended");
    this.send({ type: "end" });
    await ended;
  }

  /** The stream's portable state (rnn-wasm/vad's createVad(model, {}, bytes) resumes it anywhere). */
  async snapshot(): Promise<Uint8Array> {
    const snap = this.next("snapshot");
    this.send({ type: "snapshot" });
    return ((await snap) as Extract<HostMessage, { type: "snapshot" }>).bytes;
  }

  /** Frees the host's model and kernel memory, ends the worker, disconnects the node. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.send({ type: "dispose" });
    this.node.port.onmessage = null;
    this.node.port.close();
    this.node.disconnect();
    if (this.worker) {
      this.worker.postMessage({ type: "dispose" } satisfies HostCommand);
      this.worker.terminate();
      this.worker = null;
    }
    this.waiters.clear();
  }
}

export type MicVadOptions = VadNodeOptions & {
  /** A stream to listen to (default: getUserMedia with echo cancellation and noise suppression off, mono). */
  stream?: MediaStream;
  /** A context to use (it stays open on destroy); default: a new one, closed on destroy. */
  audioContext?: AudioContext;
  /** Constraints for getUserMedia when no stream is given. */
  audio?: MediaTrackConstraints;
};

/** The microphone through a VAD: start, pause/resume, destroy (which frees everything it made). */
export class MicVad {
  private constructor(
    readonly vad: VadNode,
    readonly context: AudioContext,
    private readonly source: MediaStreamAudioSourceNode,
    private readonly stream: MediaStream,
    private readonly own: { context: boolean; stream: boolean },
  ) {}

  static async start(options: MicVadOptions): Promise<MicVad> {
    const ownStream = !options.stream;
    const stream = options.stream ?? (await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false, ...options.audio } }));
    const ownContext = !options.audioContext;
    const context = options.audioContext ?? new AudioContext();
    try {
      const vad = await VadNode.create(context, options);
      const source = context.createMediaStreamSource(stream);
      source.connect(vad.node);
      if (context.state === "suspended") await context.resume();
      return new MicVad(vad, context, source, stream, { context: ownContext, stream: ownStream });
    } catch (e) {
      if (ownStream) for (const t of stream.getTracks()) t.stop();
      if (ownContext) await context.close();
      throw e;
    }
  }

  /** Stops listening (the stream's state is kept; nothing is processed meanwhile). */
  pause(): void {
    this.source.disconnect();
    this.vad.pause();
  }

  resume(): void {
    this.vad.resume();
    this.source.connect(this.vad.node);
  }

  /** Stops the microphone (when it opened it), frees the model, closes its own AudioContext. */
  async destroy(): Promise<void> {
    this.source.disconnect();
    this.vad.dispose();
    if (this.own.stream) for (const t of this.stream.getTracks()) t.stop();
    if (this.own.context && this.context.state !== "closed") await this.context.close();
  }
}

export interface BufferDetection {
  sampleRate: number;
  probabilities: Float32Array;
  segments: Extract<VadEvent, { type: "segment" }>[];
}

/**
 * A decoded recording through the same audio-thread host as the microphone: an
 * OfflineAudioContext at the buffer's rate renders it into the worklet, faster than real time.
 */
export async function detectSpeechInBuffer(buffer: AudioBuffer, options: VadNodeOptions): Promise<BufferDetection> {
  const context = new OfflineAudioContext(1, buffer.length, buffer.sampleRate);
  const probs: Float32Array[] = [];
  const segments: BufferDetection["segments"] = [];
  const vad = await VadNode.create(context, {
    ...options,
    length: buffer.length,
    onUpdate(u) {
      probs.push(u.probabilities);
      options.onUpdate?.(u);
    },
    onSegment(e) {
      segments.push(e);
      options.onSegment?.(e);
    },
  });
  try {
    const src = new AudioBufferSourceNode(context, { buffer });
    src.connect(vad.node);
    src.start();
    await context.startRendering();
    await vad.end();
  } finally {
    vad.dispose();
  }
  const probabilities = new Float32Array(probs.reduce((n, p) => n + p.length, 0));
  probs.reduce((at, p) => (probabilities.set(p, at), at + p.length), 0);
  return { sampleRate: buffer.sampleRate, probabilities, segments };
}
