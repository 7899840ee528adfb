/**
 * CuDNNLSTM and CuDNNGRU (Keras 2 / tf.keras `.h5`, the Kaggle-era GPU layers) as the LSTM and
 * GRU they compute. Their weights keep Keras' gate order (LSTM i, f, c, o; GRU z, r, h; the
 * layers reorder the GRU's to cuDNN's r, z, h when they call it), but each gate's block of
 * the kernel is handed to cuDNN as the flat buffer of its [units, inputs] matrix
 * (`_canonical_to_params` without transposing): gate_j = Σ_k flat[j·inputs + k]·x_k. Read as
 * a Keras kernel [inputs, units], element [k][j] is the block's flat element k + inputs·j; for
 * the square recurrent blocks that is the transpose (tf.keras' own conversion on load,
 * hdf5_format `convert_lstm_weights`, does the same). The bias holds the input biases of every
 * gate, then the recurrent ones: an LSTM adds them; a GRU keeps them apart, [2, 3u] (cuDNN's
 * GRU applies the reset gate after the recurrent product: Keras reset_after=True). Gates are
 * sigmoid, candidates tanh.
 */

/** A Keras-layout kernel [K, G·u] from a cuDNN layer's, each gate's block read as cuDNN reads it. */
export function kernelFromCudnn(w: Float32Array, K: number, G: number, u: number): Float32Array {
  const out = new Float32Array(K * G * u);
  for (let g = 0; g < G; g++) {
    for (let m = 0; m < K * u; m++) {
      // flat element m of gate g's block [K, u] (row-major) is cuDNN's weight of unit m / K, input m % K
      const value = w[Math.floor(m / u) * G * u + g * u + (m % u)];
      out[(m % K) * G * u + g * u + Math.floor(m / K)] = value;
    }
  }
  return out;
}

/** LSTM: the input and recurrent biases of each gate added ([8u] -> [4u]). */
export function lstmBiasFromCudnn(bias: Float32Array, u: number): Float32Array {
  const out = new Float32Array(4 * u);
  for (let i = 0; i < 4 * u; i++) out[i] = bias[i] + bias[4 * u + i];
  return out;
}
