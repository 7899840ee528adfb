/**
 * The edge example's settings: the demo models behind its routes (the browser page imports
 * them too), by file name in the repository's models/ folder, and the request limits. The
 * tests read the same constants, so switching a model is a one-line change here.
 */

/** POST /predict: sentence sentiment, a bundle with a tokenizer, output = P(positive). */
export const SENTIMENT_MODEL = "uci-sentiment.rnnb"; // "stocktwits-sentiment.rnnb" once it ships (same interface)

/** POST /generate: next-word model over Aesop's "Belling the Cat". */
export const GENERATE_MODEL = "aesop-next-word.rnnb";

/** POST /step: streaming regression, one float in and one float out per step. */
export const STREAM_MODEL = "sine.rnnb";

export const LIMITS = {
  /** Request body bytes; larger bodies get 413 before parsing. */
  bodyBytes: 16 * 1024,
  /** /predict text, in UTF-16 code units (the model reads at most its 32 last words anyway). */
  textChars: 1000,
  promptChars: 500,
  /** /generate words per request: about 4 ms each for the Aesop model on a server core. */
  steps: 50,
  temperature: 5,
  /** /step: values per request when `input` is an array. */
  stepInputs: 256,
} as const;
