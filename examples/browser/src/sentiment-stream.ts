/**
 * Sentiment per keystroke through one streaming session, giving exactly what
 * `model.predict(tokenizer.encode(text))` gives, at the cost of the tokens that changed.
 *
 * Why not simply step each new word onto the previous state: the model was trained on
 * sequences pre-padded to 32 tokens (Keras pad_sequences, no masking), so the state a word
 * starts from depends on how many padding zeros come before it, i.e. on the sentence's final
 * length. Stepping only the new words gives a different score (for the UCI review model, up
 * to 0.48 apart on 300 of its sentences). Instead the session keeps a snapshot (getState) after every token of the last
 * padded sequence; on an edit it restores the snapshot at the longest common prefix of the old
 * and the new sequence (setState) and steps only the rest. Typing a word at the end of an
 * n-word sentence shares the first 31 - n padding zeros, so it steps n + 1 tokens instead of
 * 32; a keystroke inside a word that is not yet a known word changes no token and steps none.
 * For a model trained with masking or without padding the common prefix is the whole old
 * sentence, and an edit at the end steps only the new tokens.
 */
import type { Model, Session, Tensor } from "rnn-wasm";

export interface ScoreUpdate {
  score: number;
  /** Tokens stepped for this edit, and tokens whose state came from a snapshot. */
  stepped: number;
  reused: number;
  /** Milliseconds spent in session.step for this edit (snapshots not included). */
  stepMs: number;
}

export class StreamingSentiment {
  private readonly session: Session;
  private ids: number[] = [];
  /** snapshots[k]: the state after the first k tokens of `ids`; outputs[k]: the score there. */
  private snapshots: Uint8Array[];
  private outputs: number[] = [NaN];

  constructor(private readonly model: Model) {
    if (!model.tokenizer) throw new Error("the sentiment model needs a bundle with a tokenizer");
    this.session = model.createSession();
    this.snapshots = [this.session.getState()];
  }

  update(text: string): ScoreUpdate {
    const ids = Array.from(this.model.tokenizer!.encode(text));
    let p = 0;
    while (p < ids.length && p < this.ids.length && ids[p] === this.ids[p]) p++;
    this.session.setState(this.snapshots[p]);
    this.snapshots.length = p + 1;
    this.outputs.length = p + 1;
    let stepMs = 0;
    for (let k = p; k < ids.length; k++) {
      const t0 = performance.now();
      const y = this.session.step([ids[k]]) as Tensor;
      stepMs += performance.now() - t0;
      this.outputs.push(y.data[0]);
      this.snapshots.push(this.session.getState());
    }
    this.ids = ids;
    return { score: this.outputs[ids.length], stepped: ids.length - p, reused: p, stepMs };
  }

  dispose(): void {
    this.session.dispose();
  }
}
