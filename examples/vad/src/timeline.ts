/**
 * The demo's timeline on a canvas: the waveform (min and max per pixel column), the speech
 * probability of each frame as a line, the detected segments as shaded spans. A live
 * recording scrolls (the last `window` seconds); a file is drawn whole. Redrawn at most once per
 * animation frame.
 */
const FRAME_SECONDS = 512 / 16000;

export class Timeline {
  private rate = 16000;
  private window: number | null = null;
  private duration = 0;
  /** Per block of `block` samples: [min, max]. */
  private peaks: number[] = [];
  private block = 256;
  private partial: [number, number, number] = [0, 0, 0];
  private samples = 0;
  private probs: number[] = [];
  private segments: [number, number][] = [];
  private queued = false;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  reset(sampleRate: number, windowSeconds: number | null): void {
    this.rate = sampleRate;
    this.window = windowSeconds;
    this.block = Math.max(1, Math.round(sampleRate / 400));
    this.peaks = [];
    this.partial = [0, 0, 0];
    this.samples = 0;
    this.probs = [];
    this.segments = [];
    this.duration = 0;
    this.draw();
  }

  setDuration(seconds: number): void {
    this.duration = seconds;
  }

  addAudio(x: Float32Array): void {
    let [lo, hi, n] = this.partial;
    for (const v of x) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (++n === this.block) {
        this.peaks.push(lo, hi);
        lo = hi = n = 0;
      }
    }
    this.partial = [lo, hi, n];
    this.samples += x.length;
    this.schedule();
  }

  addProbabilities(first: number, p: Float32Array): void {
    p.forEach((v, i) => (this.probs[first + i] = v));
    this.schedule();
  }

  addSegment(start: number, end: number): void {
    this.segments.push([start, end]);
    this.schedule();
  }

  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.draw();
    });
  }

  private draw(): void {
    const c = this.canvas;
    const g = c.getContext("2d")!;
    const W = c.width;
    const H = c.height;
    const now = Math.max(this.samples / this.rate, this.probs.length * FRAME_SECONDS, this.duration);
    const span = this.window ?? Math.max(now, 1);
    const t0 = this.window ? Math.max(0, now - span) : 0;
    const x = (t: number) => ((t - t0) / span) * W;
    g.clearRect(0, 0, W, H);
    g.fillStyle = "rgba(47, 158, 68, 0.35)";
    for (const [s, e] of this.segments) if (e > t0) g.fillRect(x(s), 0, Math.max(1, x(e) - x(s)), H);
    // waveform in the upper two thirds
    const mid = H / 3;
    g.fillStyle = "#9aa5b1";
    const perBlock = this.block / this.rate;
    for (let px = 0; px < W; px++) {
      const a = Math.floor((t0 + (px / W) * span) / perBlock);
      const b = Math.max(a + 1, Math.floor((t0 + ((px + 1) / W) * span) / perBlock));
      let lo = 0;
      let hi = 0;
      for (let k = a; k < b && 2 * k + 1 < this.peaks.length; k++) {
        lo = Math.min(lo, this.peaks[2 * k]);
        hi = Math.max(hi, this.peaks[2 * k + 1]);
      }
      if (hi > lo) g.fillRect(px, mid - hi * mid, 1, Math.max(1, (hi - lo) * mid));
    }
    // probability in the lower part, with the 0.5 threshold
    const py = (p: number) => H - 8 - p * (H / 2 - 16);
    g.strokeStyle = "#ccc";
    g.beginPath();
    g.moveTo(0, py(0.5));
    g.lineTo(W, py(0.5));
    g.stroke();
    g.strokeStyle = "#d9480f";
    g.lineWidth = 1.5;
    g.beginPath();
    let started = false;
    for (let k = Math.max(0, Math.floor(t0 / FRAME_SECONDS)); k < this.probs.length; k++) {
      const p = this.probs[k];
      if (p === undefined) continue;
      const px = x((k + 0.5) * FRAME_SECONDS);
      if (!started) g.moveTo(px, py(p));
      else g.lineTo(px, py(p));
      started = true;
    }
    g.stroke();
    g.lineWidth = 1;
    g.fillStyle = "#555";
    g.font = "12px system-ui, sans-serif";
    const step = span > 60 ? 10 : span > 20 ? 5 : 1;
    for (let t = Math.ceil(t0 / step) * step; t <= t0 + span; t += step) g.fillText(`${t}s`, x(t) + 2, 12);
  }
}
