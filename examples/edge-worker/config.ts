/**
 * The edge example's settings: the demo models behind its routes (the browser page imports
 * them too), by file name in the repository's models/ folder, and the request limits. The
 * tests read the same constants, so switching a model is a one-line change here.
 */

/**
 * POST /predict and the browser page: sentence sentiment, a bundle with a tokenizer, output =
 * P(positive). StockTwits $SPY messages (bearish/bullish); "uci-sentiment.rnnb" (product,
 * film and restaurant reviews, 162 KB instead of 6.3 MB) has the same interface.
 */
export const SENTIMENT_MODEL = "stocktwits-sentiment.rnnb";

/** The two classes' names per sentiment model (a bundle's metadata.labels wins when present). */
export const SENTIMENT_LABELS: Record<string, readonly [string, string]> = {
  "stocktwits-sentiment.rnnb": ["bearish", "bullish"],
};

/** [below 0.5, from 0.5 up] for the sentiment model with this metadata. */
export function sentimentLabels(metadata: Record<string, unknown>): readonly [string, string] {
  const m = metadata.labels;
  if (Array.isArray(m) && m.length === 2 && m.every((l) => typeof l === "string")) return m as [string, string];
  return SENTIMENT_LABELS[SENTIMENT_MODEL] ?? ["negative", "positive"];
}

/** POST /generate: next-word model over Aesop's "Belling the Cat". */
export const GENERATE_MODEL = "aesop-next-word.rnnb";

/** POST /step: streaming regression, one float in and one float out per step. */
export const STREAM_MODEL = "sine.rnnb";

/** POST /vad: Silero VAD v5 bound for 16 kHz (other rates are resampled in the stream). */
export const VAD_MODEL = "silero-vad-v5-16k.rnnb";

export const LIMITS = {
  /** Request body bytes; larger bodies get 413 before parsing. */
  bodyBytes: 16 * 1024,
  /** A refused body is read and dropped up to this many bytes, so the client gets the 413. */
  discardBytes: 1024 * 1024,
  /** /predict text, in UTF-16 code units (the model reads at most its 32 last words anyway). */
  textChars: 1000,
  promptChars: 500,
  /** /generate words per request: about 4 ms each for the Aesop model on a server core. */
  steps: 50,
  temperature: 5,
  /** /step: values per request when `input` is an array. */
  stepInputs: 256,
  /** /vad request body bytes: ~5 s of 16 kHz 16-bit audio in base64, and the stream's state. */
  vadBodyBytes: 256 * 1024,
  /** /vad audio per request, seconds at its sample rate. */
  vadSeconds: 10,
} as const;
