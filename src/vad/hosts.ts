/**
 * dist/vad-host.js: the audio-thread host and the worker host in one self-contained script (the
 * runtime is most of either, so one file serves both: AudioWorklet.addModule and new Worker load
 * the same URL; each part acts only in its own kind of scope).
 */
import "./worklet.js";
import "./worker.js";
