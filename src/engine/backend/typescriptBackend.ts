/** The TypeScript kernels as a ComputeBackend: the reference, and the fallback everywhere. */
import { matmul as matmulTypeScript } from "../quant/matmul.js";
import { attentionTypeScript } from "../model/attention.js";
import { flashAttentionTypeScript } from "../model/flashAttention.js";
import { rmsNormTypeScript, siluMulInPlaceTypeScript } from "../model/ops.js";
import { applyRopeTypeScript } from "../model/rope.js";
import { gegluInPlaceTypeScript } from "../model/gelu.js";
import { f32ArrayToF16 } from "../ggml/fp16.js";
import type { ComputeBackend } from "./computeBackend.js";

export const TYPESCRIPT_BACKEND: ComputeBackend = Object.freeze({
  kind: "typescript",
  description: "typescript, 1 thread",
  threads: 1,
  // reads weights as stored: never packs, so its matmul only ever sees ggml types
  matmul: matmulTypeScript as ComputeBackend["matmul"],
  pack: () => null,
  attention(out, q, cache, layer, position, nTokens, shape, scratch) {
    if (shape.flashKvChunks !== undefined) flashAttentionTypeScript(out, q, cache, layer, position, nTokens, shape, scratch, shape.flashKvChunks);
    else attentionTypeScript(out, q, cache, layer, position, nTokens, shape, scratch);
  },
  rmsNorm: rmsNormTypeScript,
  siluMul(gate, up, n, rows) {
    for (let t = 0; t < rows; t++) siluMulInPlaceTypeScript(gate.subarray(t * n), up.subarray(t * n), n);
  },
  geluMul(gate, up, n, rows) {
    gegluInPlaceTypeScript(gate, up, n * rows);
  },
  rope(x, nTokens, nHeads, headDim, table, position) {
    const nRot = table.params.nRot;
    const cosSin = table.cosSinRows(position, nTokens);
    const stride = nHeads * headDim;
    for (let t = 0; t < nTokens; t++) applyRopeTypeScript(x, t * stride, nHeads, headDim, cosSin.subarray(t * nRot, (t + 1) * nRot), table.params.layout);
  },
  toHalf: f32ArrayToF16,
} satisfies ComputeBackend);
