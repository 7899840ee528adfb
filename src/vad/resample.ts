/**
 * Streaming sample-rate conversion by any rational ratio (48 kHz or 44.1 kHz microphones to the
 * model's 16 kHz, 8 kHz telephony to 16 kHz): a Kaiser-windowed sinc low-pass evaluated at each
 * output instant through a polyphase table. Output sample n sits at input time n·inRate/outRate
 * (zero phase: no delay to compensate), and the result does not depend on how the input is cut
 * into chunks. The filter's figures (passband, stopband, attenuation, cost) are in docs/audio.md
 * and test/vad/resample.test.ts measures them.
 *
 * Why not a library: the maintained ones (libsamplerate, speex, soxr ports) are wasm modules
 * larger than the whole rnn-wasm runtime, and the browser and edge bundles carry nothing but our
 * own JS and wasm; sox is the oracle in the tests instead.
 */

/** Passband edge as a fraction of the lower rate's Nyquist frequency. */
const PASSBAND = 0.9;
/** Stopband attenuation of the Kaiser design, dB. */
const ATTENUATION_DB = 80;
/** Most polyphase rows a conversion may need (44.1 kHz -> 16 kHz: 160; 11.025 kHz -> 16 kHz: 640). */
const MAX_PHASES = 1024;

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

/** Zeroth-order modified Bessel function of the first kind (the Kaiser window), by its series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 64; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/** The polyphase table of one conversion: `phases` rows of `taps` coefficients. */
interface Filter {
  /** Output rate / input rate as the reduced fraction up / down. */
  up: number;
  down: number;
  /** Input samples each side of an output instant that the filter reads. */
  half: number;
  taps: number;
  table: Float32Array;
}

const filters = new Map<string, Filter>();

/** Builds (once per rate pair) the windowed-sinc table: row p holds h(p/up - j) for j in [-half+1, half]. */
function filterFor(inRate: number, outRate: number): Filter {
  const key = `${inRate}>${outRate}`;
  const cached = filters.get(key);
  if (cached) return cached;
  const g = gcd(inRate, outRate);
  const up = outRate / g;
  const down = inRate / g;
  // cutoff in cycles per input sample: the lower Nyquist, passband PASSBAND of it, stopband at it
  const nyquist = 0.5 * Math.min(1, outRate / inRate);
  const transition = nyquist * (1 - PASSBAND);
  const cutoff = nyquist * (1 + PASSBAND) / 2;
  // Kaiser's formulas: beta from the attenuation, length from attenuation and transition width
  const beta = 0.1102 * (ATTENUATION_DB - 8.7);
  const length = Math.ceil((ATTENUATION_DB - 7.95) / (14.36 * transition));
  const half = Math.ceil(length / 2);
  const taps = 2 * half;
  const phases = up;
  const table = new Float32Array(phases * taps);
  const i0Beta = besselI0(beta);
  for (let p = 0; p < phases; p++) {
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      // tap j multiplies input sample (i - half + 1 + j) for an output at i + p/up
      const t = p / up + half - 1 - j;
      const r = t / half;
      const w = Math.abs(r) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta;
      const x = 2 * cutoff * t;
      const v = (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)) * 2 * cutoff * w;
      table[p * taps + j] = v;
      sum += v;
    }
    // unit gain at DC for every phase: no ripple at the phase rate on a constant signal
    for (let j = 0; j < taps; j++) table[p * taps + j] /= sum;
  }
  const f = { up, down, half, taps, table };
  filters.set(key, f);
  return f;
}

/** The state a Resampler carries between chunks (also what a stream snapshot stores). */
export interface ResamplerState {
  /** The last `taps` input samples, oldest first (zeros before the stream began). */
  history: Float32Array;
  /** Input samples consumed so far. */
  consumed: number;
  /** Output samples produced so far. */
  produced: number;
}

export class Resampler {
  private readonly f: Filter;
  /** History (taps samples) then the chunk being converted; reused, grown for larger chunks. */
  private win: Float32Array;
  private out = new Float32Array(0);
  private consumed = 0;
  private produced = 0;

  constructor(readonly inRate: number, readonly outRate: number) {
    if (!(Number.isInteger(inRate) && Number.isInteger(outRate) && inRate >= 1000 && outRate >= 1000 && inRate <= 384000 && outRate <= 384000)) {
      throw new RangeError(`sample rates must be integers from 1000 to 384000 Hz, received ${inRate} -> ${outRate}`);
    }
    const g = gcd(inRate, outRate);
    if (outRate / g > MAX_PHASES) throw new RangeError(`no resampling ${inRate} -> ${outRate} Hz: the reduced ratio ${outRate / g}/${inRate / g} needs more than ${MAX_PHASES} filter phases`);
    this.f = filterFor(inRate, outRate);
    this.win = new Float32Array(this.f.taps + 4096);
  }

  /** Input samples the filter reads after an output instant: the conversion's latency. */
  get lookahead(): number {
    return this.f.half;
  }

  /** Output samples that `inputSamples` of input make once flushed: ceil(n · out / in). */
  outputLength(inputSamples: number): number {
    return Math.ceil((inputSamples * this.f.up) / this.f.down);
  }

  /**
   * Converts the next chunk; returns a view valid until the next call. Each output needs `half`
   * input samples after its instant, so the last few wait for the next chunk (or flush); the
   * output is the same however the input is cut. Allocates only when a chunk is larger than any
   * before (the audio thread calls this every 128 samples).
   */
  process(input: Float32Array): Float32Array {
    const { up, down, half, taps, table } = this.f;
    if (this.win.length < taps + input.length) {
      const grown = new Float32Array(taps + input.length);
      grown.set(this.win.subarray(0, taps));
      this.win = grown;
    }
    const win = this.win;
    win.set(input, taps);
    const end = this.consumed + input.length; // input samples known after this chunk
    const base = this.consumed - taps; // input index of win[0]
    // output n is ready when its last tap, input floor(n·down/up) + half, is known
    const ready = Math.max(0, Math.ceil(((end - half) * up) / down) - this.produced);
    if (this.out.length < ready) this.out = new Float32Array(ready);
    const out = this.out;
    for (let k = 0, n = this.produced; k < ready; k++, n++) {
      const pos = n * down;
      const i = Math.floor(pos / up);
      const start = i - half + 1 - base;
      const row = (pos - i * up) * taps;
      let acc = 0;
      for (let j = 0; j < taps; j++) acc += win[start + j] * table[row + j];
      out[k] = acc;
    }
    this.produced += ready;
    this.consumed = end;
    win.copyWithin(0, input.length, input.length + taps);
    return out.subarray(0, ready);
  }

  /** The outputs still owed for an input that ends here (its future read as zeros); then resets. */
  flush(): Float32Array {
    const owed = this.outputLength(this.consumed) - this.produced;
    const tail = owed > 0 ? this.process(new Float32Array(this.f.half + Math.ceil(this.f.down / this.f.up) + 1)).slice(0, owed) : new Float32Array(0);
    this.reset();
    return tail;
  }

  reset(): void {
    this.win.fill(0);
    this.consumed = this.produced = 0;
  }

  getState(): ResamplerState {
    return { history: this.win.slice(0, this.f.taps), consumed: this.consumed, produced: this.produced };
  }

  setState(s: ResamplerState): void {
    const ok = s.history instanceof Float32Array && s.history.length === this.f.taps && Number.isSafeInteger(s.consumed) && Number.isSafeInteger(s.produced)
      && s.consumed >= 0 && s.produced >= 0 && Math.abs(s.produced - this.outputLength(s.consumed)) <= Math.ceil((this.f.half * this.f.up) / this.f.down) + 2;
    if (!ok) throw new RangeError(`resampler state for ${this.inRate} -> ${this.outRate} Hz does not fit (a history of ${this.f.taps} samples and consistent counts)`);
    this.win.fill(0);
    this.win.set(s.history);
    this.consumed = s.consumed;
    this.produced = s.produced;
  }
}
