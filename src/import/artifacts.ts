/**
 * The meeting point of all importers. Each importer (tfjs model.json, Keras .h5, Keras 3
 * .keras) only translates its file format into ModelArtifacts; `buildModelSpec` (src/model)
 * turns artifacts into the runnable spec. Importers do no arithmetic beyond dequantising.
 */

/** One weight tensor, row-major float32, named the way the source file names it. */
export interface NamedWeight {
  /**
   * Full weight name. Matching is by layer name and role, so any of these work:
   * `lstm_LSTM1/kernel` (tfjs), `lstm/lstm_cell/kernel` (Keras 2), `lstm/kernel`,
   * `bidirectional/forward_lstm/lstm_cell/kernel` (Bidirectional, Keras 2),
   * `bidirectional/forward_layer/kernel`. The last path component is the role: kernel,
   * recurrent_kernel, bias, embeddings, gamma, beta, moving_mean, moving_variance.
   * A `:0` suffix (TF variable names) is ignored.
   */
  name: string;
  shape: number[];
  data: Float32Array;
}

export type ArtifactsOrigin = "tfjs" | "keras2" | "keras3";

export interface ModelArtifacts {
  origin: ArtifactsOrigin;
  /**
   * Keras version string when known ("2.2.4", "2.6.0", "3.3.3", "tfjs-layers 4.22.0").
   * Decides version-dependent semantics: hard_sigmoid is clip(0.2x+0.5, 0, 1) in tfjs and
   * Keras 2, relu6(x+3)/6 in Keras 3.
   */
  kerasVersion?: string;
  /**
   * The model config in Keras 2 / tfjs style: `{ class_name: "Sequential" | "Functional" |
   * "Model", config: { name, layers: [...], input_layers?, output_layers? } }`, each layer
   * `{ class_name, config: {...snake_case keys...}, name?, inbound_nodes? }` with inbound
   * nodes as `[[[layerName, nodeIndex, tensorIndex, kwargs], ...]]`. The Keras 3 importer
   * normalises its config into this form.
   */
  topology: { class_name: string; config: unknown; [k: string]: unknown };
  weights: NamedWeight[];
  /** Where the artifacts came from, for error messages ("model.h5", "model.json"). */
  sourceName?: string;
}
