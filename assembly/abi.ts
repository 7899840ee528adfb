// The contract between the kernels and the JavaScript runtime, stated once: every code, flag,
// pointer tag and block layout the two sides share is a constant here. The kernels import
// them; scripts/abi.mjs turns them, with the signatures of the exports in index.ts, into
// src/wasm/abi.ts, which the runtime imports (npm run build regenerates it; test/kernels/
// abi.test.ts checks it against this file and both builds). How to add a code, a flag, a
// field or an export: docs/kernels.md, "The ABI".
//
// Only `export const NAME: i32 = value;` declarations, whose value is a number or an
// expression of earlier constants; the comment above a constant carries over.

// ---------------------------------------------------------------- memory

/** Columns per packed panel and units per recurrent tile; state rows are units rounded up to it. */
export const PANEL_WIDTH: i32 = 8;
/** Alignment of every block the runtime places in kernel memory (v128 loads of packed panels). */
export const BLOCK_ALIGN: i32 = 16;

// ---------------------------------------------------------------- pointer tags
// The low bits of a weight pointer say how the weight is stored (blocks are 16-byte aligned,
// so the bits are free).

/** An int8 weight: its int8 values, zeros to 16 bytes, then its f32 scales (docs/kernels.md). */
export const PTR_INT8: i32 = 1;
/** An f16 embedding table, kept as halves and widened per gathered row. */
export const PTR_F16: i32 = 2;

// ---------------------------------------------------------------- activation codes
// activate(), dense and conv1d outputs, recurrent gates. The codes are stored in bundles:
// never renumber one.

export const ACT_LINEAR: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_RELU6: i32 = 2;
export const ACT_TANH: i32 = 3;
export const ACT_SIGMOID: i32 = 4;
/** tfjs and Keras 2: clip(0.2x + 0.5, 0, 1). */
export const ACT_HARD_SIGMOID: i32 = 5;
/** Keras 3: relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1). */
export const ACT_HARD_SIGMOID_K3: i32 = 6;
export const ACT_ELU: i32 = 7;
export const ACT_SELU: i32 = 8;
export const ACT_SOFTPLUS: i32 = 9;
export const ACT_SOFTSIGN: i32 = 10;
export const ACT_EXPONENTIAL: i32 = 11;
export const ACT_SWISH: i32 = 12;
/** x·Φ(x) with erf (Keras gelu approximate=False, tfjs 'gelu'). */
export const ACT_GELU: i32 = 13;
/** tanh form (Keras gelu approximate=True, tfjs 'gelu_new'). */
export const ACT_GELU_TANH: i32 = 14;
export const ACT_MISH: i32 = 15;
export const ACT_HARD_SWISH: i32 = 16;
/** Elementwise codes without parameters are 0 .. ACT_COUNT - 1: valid wherever an activation is. */
export const ACT_COUNT: i32 = 17;
/**
 * Codes from ACT_UNARY to ACT_UNARY + TU_COUNT - 1, in an activation slot only: the unary
 * function TU_* (code − ACT_UNARY, tensor.ts) with the slot's alpha and beta. ONNX's
 * recurrent activations with parameters are ACT_UNARY + TU_AFFINE, TU_LEAKY_RELU,
 * TU_THRESHOLDED_RELU, TU_SCALED_TANH, TU_HARD_SIGMOID and TU_ELU.
 */
export const ACT_UNARY: i32 = 64;
/** Softmax over the last axis: the runtime calls softmax(), never activate(), for it. */
export const ACT_SOFTMAX: i32 = 100;
/** log(softmax(x)): softmax(), then a log in the runtime. */
export const ACT_LOG_SOFTMAX: i32 = 101;

// ---------------------------------------------------------------- binary(op, ...)

export const BIN_ADD: i32 = 0;
export const BIN_MUL: i32 = 1;
export const BIN_MAX: i32 = 2;
export const BIN_MIN: i32 = 3;
export const BIN_SUB: i32 = 4;

// ---------------------------------------------------------------- globalPool, pool1d, poolStream

export const POOL_AVG: i32 = 0;
export const POOL_MAX: i32 = 1;

// ---------------------------------------------------------------- activation slots
// An activation with its parameters, where an op carries them: SLOT_BYTES bytes.

/** Slot field: the activation code (ACT_* below ACT_COUNT, or ACT_UNARY + TU_*). */
export const SLOT_CODE: i32 = 0;
/** Slot field, f32: alpha (codes ACT_UNARY + TU_*; ignored by the others). */
export const SLOT_ALPHA: i32 = 4;
/** Slot field, f32: beta. */
export const SLOT_BETA: i32 = 8;
export const SLOT_BYTES: i32 = 12;

// ---------------------------------------------------------------- recurrences
// rnnSequence(desc, ...) reads what a recurrent layer is from a description block:
// RNN_DESC_BYTES bytes the runtime allocates (BLOCK_ALIGN-aligned) and rnnDescribe fills once
// per layer, fields at the byte offsets RNN_DESC_* below (i32 unless marked; pointers are byte
// offsets into kernel memory, 0 = none).

/** LSTM, gates i, f, c, o (Keras order). A cell's code is its number of gates. */
export const CELL_LSTM: i32 = 4;
/** GRU, gates z, r, h (Keras order). */
export const CELL_GRU: i32 = 3;
/** SimpleRNN (ONNX RNN), one gate. */
export const CELL_SIMPLE_RNN: i32 = 1;

/** Field: CELL_LSTM, CELL_GRU or CELL_SIMPLE_RNN. */
export const RNN_DESC_CELL: i32 = 0;
/** Field: units. */
export const RNN_DESC_UNITS: i32 = 4;
/** Field: input features (K of the input projection). */
export const RNN_DESC_INPUTS: i32 = 8;
/** Field: RNN_GO_BACKWARDS | RNN_ALIGN_OUTPUT | RNN_ZERO_MASKED_OUTPUT | RNN_RESET_AFTER | RNN_INPUT_FORGET. */
export const RNN_DESC_FLAGS: i32 = 12;
/** Field, pointer: the input kernel's panels ([K, G·u] in [tile][gate] order; PTR_INT8 allowed). */
export const RNN_DESC_KERNEL: i32 = 16;
/** Field, pointer: the input bias, G·U8 floats in [tile][gate] order, or 0. */
export const RNN_DESC_BIAS: i32 = 20;
/** Field, pointer: the recurrent kernel (docs/kernels.md, "Recurrent kernels"; PTR_INT8 allowed). */
export const RNN_DESC_RECURRENT_KERNEL: i32 = 24;
/** Field, pointer: GRU reset_after's recurrent bias, 3·U8 floats [tile][z,r,h], or 0. */
export const RNN_DESC_RECURRENT_BIAS: i32 = 28;
/** Field, pointer: LSTM peephole weights, 3·U8 floats [tile][i,f,o][8] (ONNX P), or 0. */
export const RNN_DESC_PEEPHOLES: i32 = 32;
/** Field, f32: every gate's pre-activation is clipped to [-clip, clip] before its activation (ONNX clip); 0 = none. */
export const RNN_DESC_CLIP: i32 = 36;
/** Slot: the gates' activation (Keras recurrent_activation, ONNX f): LSTM i, f, o; GRU z, r. */
export const RNN_DESC_ACT_GATE: i32 = 40;
/** Slot: the candidate's activation (Keras activation, ONNX g; SimpleRNN's only one, ONNX f): LSTM c̃, GRU h̃, SimpleRNN h. */
export const RNN_DESC_ACT_CANDIDATE: i32 = 52;
/** Slot: LSTM's cell output activation h in h = o·h(c) (ONNX h; Keras: the candidate's). */
export const RNN_DESC_ACT_CELL: i32 = 64;
/** Bytes of a description block. */
export const RNN_DESC_BYTES: i32 = 80;

/** Flag: read timesteps T-1 .. 0. */
export const RNN_GO_BACKWARDS: i32 = 1;
/** Flag: write each output at its input time index (Bidirectional's backward half, ONNX reverse), not in processing order. */
export const RNN_ALIGN_OUTPUT: i32 = 2;
/** Flag: masked steps write zeros to the sequence output instead of repeating h (Keras zero_output_for_mask, ONNX sequence_lens). */
export const RNN_ZERO_MASKED_OUTPUT: i32 = 4;
/** Flag (GRU): the reset gate applies after the recurrent product (Keras reset_after=True, ONNX linear_before_reset). */
export const RNN_RESET_AFTER: i32 = 8;
/** Flag (LSTM): coupled gates, f = 1 − i (ONNX input_forget). */
export const RNN_INPUT_FORGET: i32 = 16;

// ---------------------------------------------------------------- general tensor ops (tensor.ts)
// binaryStrided(op, ...): out = a op b with broadcasting. The codes are stored in bundles by
// name (src/model/tensor-codes.ts lists the names in code order): never renumber one.

export const TB_ADD: i32 = 0;
export const TB_SUB: i32 = 1;
export const TB_MUL: i32 = 2;
export const TB_DIV: i32 = 3;
export const TB_POW: i32 = 4;
export const TB_MAX: i32 = 5;
export const TB_MIN: i32 = 6;
// unary(fn, ...): elementwise functions with up to two parameters alpha, beta.
export const TU_NEG: i32 = 0;
export const TU_ABS: i32 = 1;
export const TU_SQRT: i32 = 2;
export const TU_RECIPROCAL: i32 = 3;
export const TU_SQUARE: i32 = 4;
/** alpha·x + beta */
export const TU_AFFINE: i32 = 5;
/** min(max(x, alpha), beta) */
export const TU_CLIP: i32 = 6;
/** max(0, min(1, alpha·x + beta)) */
export const TU_HARD_SIGMOID: i32 = 7;
/** x >= 0 ? x : alpha·x */
export const TU_LEAKY_RELU: i32 = 8;
/** Unary codes below this one run 4 lanes at a time (the others one value at a time, in both builds). */
export const TU_VECTOR: i32 = 9;
export const TU_LOG: i32 = 9;
/** x >= 0 ? x : alpha·(exp(x) - 1) */
export const TU_ELU: i32 = 10;
/** beta·(x > 0 ? x : alpha·(exp(x) - 1)) */
export const TU_SELU: i32 = 11;
/** x > alpha ? x : 0 */
export const TU_THRESHOLDED_RELU: i32 = 12;
/** alpha·tanh(beta·x) */
export const TU_SCALED_TANH: i32 = 13;
export const TU_FLOOR: i32 = 14;
export const TU_CEIL: i32 = 15;
/** half to even */
export const TU_ROUND: i32 = 16;
export const TU_SIGN: i32 = 17;
export const TU_ERF: i32 = 18;
/** x^alpha (exact repeated products for integer alpha up to 64) */
export const TU_POW: i32 = 19;
/** Unary codes are 0 .. TU_COUNT - 1. */
export const TU_COUNT: i32 = 20;
// reduce(fn, ...): over the middle axis of [outer][n][inner].
export const TR_SUM: i32 = 0;
export const TR_MEAN: i32 = 1;
export const TR_MAX: i32 = 2;
export const TR_MIN: i32 = 3;
export const TR_PROD: i32 = 4;
export const TR_L1: i32 = 5;
export const TR_L2: i32 = 6;
export const TR_SUM_SQUARE: i32 = 7;
export const TR_LOG_SUM: i32 = 8;
export const TR_LOG_SUM_EXP: i32 = 9;

// ---------------------------------------------------------------- attention (attention.ts)
// attention(desc, keys, past, ...) reads one attention layer's dims, strides and scales from a
// block of ATTN_DESC_BYTES bytes that attentionDescribe fills (its layout is the kernel's own,
// in attention.ts). Queries, keys and values hold their heads side by side in a row ([T][H][D],
// what one projection per head writes); queries and outputs are batch-first [B][Tq][...], keys,
// values and the key mask batch-first [B][Tv][...] too, or with ATTN_CACHED a session's cache
// [step][B][...].

/** Bytes of a description block. */
export const ATTN_DESC_BYTES: i32 = 80;

/** Flag: score = c·Σ a_d·tanh(s·(q_d + k_d)) (Keras AdditiveAttention, Attention score_mode="concat"); else c·q·k. */
export const ATTN_ADDITIVE: i32 = 1;
/** Flag: query i sees keys j <= past + i only (Keras use_causal_mask). */
export const ATTN_CAUSAL: i32 = 2;
/** Flag: a masked query masks its whole row of scores (MultiHeadAttention's query_mask). */
export const ATTN_MASK_QUERY_ROWS: i32 = 4;
/** Flag: a masked query's output is zeros (Keras Attention multiplies by the query mask). */
export const ATTN_MASK_QUERY_OUTPUT: i32 = 8;
/** Flag: masked scores weigh 0 after the softmax, so a fully masked row gives zeros (Keras 3.10+ Softmax). */
export const ATTN_ZERO_MASKED: i32 = 16;
/** Flag: the weights of every query row are written out ([B][H][queries][keys]); else one row of scratch is reused. */
export const ATTN_KEEP_WEIGHTS: i32 = 32;
/** Flag (attentionDescribe only): keys, values and the key mask are a session's cache, [step][B][...]. */
export const ATTN_CACHED: i32 = 64;
