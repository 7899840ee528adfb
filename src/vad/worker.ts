/**
 * The worker host (in dist/vad-host.js, with the audio-thread host): the model runs in a Web Worker, the
 * audio comes from the forwarding worklet over a MessagePort (no hop through the page's thread),
 * and results go to the page. Messages: the page sends { type: "init", init, sampleRate, port }
 * once, then HostCommands; the worklet sends { type: "audio" | "gap" } and relays commands.
 */
import { errorMessage, VadHost, type HostCommand, type HostInit, type HostMessage } from "./host.js";

type FromPage = { type: "init"; init: HostInit; sampleRate: number; port: MessagePort } | HostCommand;
type FromWorklet = { type: "audio"; samples: Float32Array } | { type: "gap"; samples: number } | HostCommand;

const scope = globalThis as unknown as { postMessage(m: HostMessage, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent) => void) | null; close(): void };
let host: VadHost | null = null;
const post = (m: HostMessage, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

function command(c: HostCommand): void {
  host?.command(c);
  if (c.type === "dispose") scope.close();
}

// (one script serves both hosts: only a worker scope takes these messages)
if (typeof (globalThis as { registerProcessor?: unknown }).registerProcessor !== "function") scope.onmessage = (e: MessageEvent) => {
  const m = e.data as FromPage;
  if (m.type !== "init") return command(m);
  try {
    host = new VadHost(m.init, m.sampleRate, post);
  } catch (err) {
    post(errorMessage(err));
    return;
  }
  m.port.onmessage = (ev: MessageEvent) => {
    const w = ev.data as FromWorklet;
    if (w.type === "audio") host?.push(w.samples);
    else if (w.type === "gap") host?.gap(w.samples);
    else command(w);
  };
};
