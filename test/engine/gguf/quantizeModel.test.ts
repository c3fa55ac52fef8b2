/**
 * quantizeModel against llama.cpp's llama-quantize: byte-identical output files.
 *
 * The golden sha256 values below were made offline with llama.cpp's `llama-quantize` built from
 * llama.cpp commit de3ff815ea7d559ee917f063901b8986f038abc6 (`cmake --build … --target
 * llama-quantize`, Release, GGML_NATIVE=ON, x86-64), single-threaded:
 *   llama-quantize [FLAGS] IN OUT TYPE 1
 * with IN the F32 fixture `TinyStories-656K-F32.gguf` (rows of 128 and 384 values: every K-quant
 * falls back to a 32-block type, IQ4_XS to IQ4_NL), or the synthetic F32 llama model SYNTHETIC below (rows of 256,
 * 8 layers, GQA 4, separate output.weight: the K-quant codecs and llama.cpp's per-layer mixes).
 * TYPE Q4_K is llama-quantize's alias of Q4_K_M (Q3_K of Q3_K_M, Q5_K of Q5_K_M).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortError } from "../../../src/engine/errors.js";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { openGgufHeader } from "../../../src/engine/gguf/header.js";
import { llamaTensorOrder, quantizeModel, quantFileType, planQuantization } from "../../../src/engine/gguf/quantizeModel.js";
import { writeSyntheticModel, type SyntheticModelSpec } from "../../../src/engine/gguf/syntheticModel.js";
import { modelFile } from "../../helpers/paths.js";
import { runOurs } from "../../helpers/ours.js";

const F32_FIXTURE = "TinyStories-656K-F32.gguf";

/** llama-quantize TinyStories-656K-F32.gguf OUT TYPE 1 */
const FIXTURE_GOLDEN: Record<string, string> = {
  Q8_0: "7d1f907120b42fe29f9ea33ed3e7cc5f2b078a102b8215fbeae69870c8c6f550",
  Q4_0: "7d402792fec33f550b826a6c5eddbf887e8b451d40ada414186227bcc0f2b5de",
  Q4_1: "6327698a6725247c46bfaac3db43b02c67d3d8d46af45b1304add97c5b2276d7",
  Q5_0: "f288b456ad3e174927f53e3cde9aec6beed4d37a90882bf925f6e2ecb0e9ee69",
  Q5_1: "7d741d315d016c9602d90084c259f68a3390f8f111fce213507de0f6c01fc9e8",
  IQ4_NL: "b7578820a34ca772512f911d681b2a6fec6a9ac1c2ba1d1de4cf2d47ac550183",
  IQ4_XS: "3d2eb9bc58b39330e56095bae0d1f0b96823798c32d6a167a1d7f46f7c5d075e",
  Q2_K: "518cbf2758d407b84242dda791be473ed74a39a73c50209697707cc967ad3b0b",
  Q3_K: "71b60aa02d17d3fb87a86fcc28ccce84fed619efc2c29ff37ae720339b319038",
  Q4_K: "5fa1139e02c765ac0a880fb2e91763a7c0207c85d3c94840c2710b17afb642c7",
  Q5_K: "1c3363648763ccb0fa7f5dc5ea7807b4a7683ec85b44c64c8c0965c59bbb8bd3",
  Q6_K: "bd2b304acd395e48bb1e852b3dd9fcb6ace37a507f1dacbf30b465dce375286a",
  F16: "fc63298ebf60838e5f2b84ca8e110a235ea5a3577554aee8adb43e5492a53e1a",
  BF16: "465c128af4e152b221aca4dc7818af37b3d6a05f7cc991f780a37baa1382b61e",
  F32: "97248fa138b8b4d06b35ba75ece9c02ae43330123269e9c69e55a8fab44b1055",
};

/** The synthetic input, written by our writer; its sha256 pins it (llama-quantize read that file). */
const SYNTHETIC: SyntheticModelSpec = {
  nEmbd: 256, nLayer: 8, nHead: 4, nHeadKv: 1, nFf: 256, nVocab: 300,
  weightType: GgmlType.F32, embdType: GgmlType.F32, outputType: GgmlType.F32, seed: 17,
};
const SYNTHETIC_SHA256 = "a52aa7666c32336762982b2a0baf7c4e157497c8add0fb15b72cc0036c03b887";

/** llama-quantize synthetic-F32.gguf OUT TYPE 1 */
const SYNTHETIC_GOLDEN: Record<string, string> = {
  Q8_0: "81a969abc2b5858649f02a2764b4de58e757c2eb5df3ccb23d1a2fb23e79dfc0",
  Q4_0: "f91466320d29f481cfa1964ce3867ede5be5ebf89050e9ed20fbbdd44cfae2a8",
  Q4_1: "1f39989a012b36e59146ae39a1d8da21b39fb7819293b834db96c6af21672b9e",
  Q5_0: "aa883209a549aa210bfac09e371c5aed6dcc8790d0e539254afe0d1de25313db",
  Q5_1: "f6a73de8221b88c5cd5fa30f3c3484051aaaa98bc8778c29db27d98700e5607a",
  IQ4_NL: "9c9fd9bfafca73a8d06a801942d50be078db1df6e1b2b1246c05d8e83520b2da",
  IQ4_XS: "6b7ed17cb46febe4d7ccfe8c53415030aac3356cb8253db579ad91c494c80d75",
  Q2_K: "8af226d82f0f460892ee18264f1c62038f979af1a84b736160932b8c1681f71c",
  Q3_K_S: "709d42cd63e29fd1da6f3b54355261f85f929668f32f027a8d2146690b03dc17",
  Q3_K_M: "c3c70b9860e7bee4dd2ce19798d282fe81f4c71a38efb4de98d21babd4cee6ef",
  Q3_K_L: "964ca0e5f8b87f2163bb1de15f621bee3743a4373d1ad4e09c9ac909eab51699",
  Q4_K_S: "0ead4f5bb9314bf979e36d5890e9dc55ffdb81051414c1639ce53aa43fe0f177",
  Q4_K_M: "63be13d666ddc92db0328c52d907765ee3aa5a75b238d4e606af65735b03d83e",
  Q5_K_S: "1d12c0ac1129e590ba77e31be8dd51f4780a5728f1a4be0ceaa87cb335ab8361",
  Q5_K_M: "1f0bb8ad91fba63e0703fd1c91289725fefd4c89644646ee360b2fbef8881dd5",
  Q6_K: "cbe034f91f7f08a3f1981fdacf4413db0d656187b5628673829667265d2b8945",
  F16: "4f3a2237d47250dd23f3209351634824a3e2a7aa6ebfb75e93f69fc24fb4d21c",
  BF16: "eccc6514d8b6ecb12af326271837435287b46b42564ca3d088a9fde7089a0788",
};

let dir: string;
let synthetic: string;
const sha256Of = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-quantize-"));
  synthetic = path.join(dir, "synthetic-F32.gguf");
  await writeSyntheticModel(synthetic, SYNTHETIC);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function quantizedSha(input: string, type: string, options: { leaveOutputTensor?: boolean; pure?: boolean } = {}): Promise<string> {
  const out = path.join(dir, `out-${type}.gguf`);
  await quantizeModel(input, out, type, { ...options, force: true });
  expect(fs.existsSync(`${out}.partial`)).toBe(false);
  return sha256Of(out);
}

describe("quantizeModel: byte-identical to llama-quantize", () => {
  it.each(Object.entries(FIXTURE_GOLDEN))("%s from the F32 fixture", async (type, golden) => {
    expect(await quantizedSha(modelFile(F32_FIXTURE), type)).toBe(golden);
  });

  it("the synthetic input is the file llama-quantize read", () => {
    expect(sha256Of(synthetic)).toBe(SYNTHETIC_SHA256);
  });

  it.each(Object.entries(SYNTHETIC_GOLDEN))("%s from the synthetic F32 model (256-value rows)", async (type, golden) => {
    expect(await quantizedSha(synthetic, type)).toBe(golden);
  });

  it("--leave-output-tensor and --pure (Q4_K_M of the synthetic model)", async () => {
    // llama-quantize --leave-output-tensor IN OUT Q4_K_M 1; llama-quantize --pure IN OUT Q4_K_M 1
    expect(await quantizedSha(synthetic, "Q4_K_M", { leaveOutputTensor: true })).toBe("64ba554277e0e372d8d86d530f6a7146c4ee8986179abaad53b9da27856e6176");
    expect(await quantizedSha(synthetic, "Q4_K_M", { pure: true })).toBe("0ef756fc9c5468e3622bb97e2d55c0b6c079901f7ab8a57bb3a1ff78edb39154");
  });

  it("from F16 and from a quantized file (llama-quantize [--allow-requantize]): dequantized first", async () => {
    // llama-quantize TinyStories-656K-F16.gguf OUT Q4_0 1
    expect(await quantizedSha(modelFile("TinyStories-656K-F16.gguf"), "Q4_0")).toBe(FIXTURE_GOLDEN.Q4_0);
    // llama-quantize --allow-requantize TinyStories-656K-Q5_1.gguf OUT Q8_0 1
    expect(await quantizedSha(modelFile("TinyStories-656K-Q5_1.gguf"), "Q8_0")).toBe("9e454ec853e9d68e5b097115fec2ec00f2414d752cc9348d2d57bce82df70645");
  });
});

describe("quantizeModel: what it writes", () => {
  it("metadata: general.file_type (llama.cpp's ftype) and general.quantization_version 2, moved last", async () => {
    const out = path.join(dir, "meta.gguf");
    await quantizeModel(modelFile(F32_FIXTURE), out, "q4_k_m", { force: true });
    using file = openGgufHeader(out);
    const keys = [...file.metadata.keys()];
    expect(keys.slice(-2)).toEqual(["general.quantization_version", "general.file_type"]);
    expect(file.metadata.get("general.file_type")?.value).toBe(15);
    expect(file.metadata.get("general.quantization_version")?.value).toBe(2);
  });

  it("plan: 1-D tensors keep their type, the tied token_embd falls back from Q6_K to Q8_0, tensors in llama.cpp's order", () => {
    using file = openGgufHeader(modelFile(F32_FIXTURE));
    const { plan } = planQuantization(file, quantFileType("Q4_0")!);
    const typeOf = new Map(plan.map((entry) => [entry.info.name, entry.to]));
    expect(typeOf.get("output_norm.weight")).toBe(GgmlType.F32);
    expect(typeOf.get("token_embd.weight")).toBe(GgmlType.Q8_0);
    expect(typeOf.get("blk.0.attn_q.weight")).toBe(GgmlType.Q4_0);
    expect(plan.map((entry) => entry.info.name)).toEqual([...file.tensors].sort(llamaTensorOrder).map((t) => t.name));
    expect(["blk.10.a", "output.weight", "blk.2.b", "blk.2.a"].map((name) => ({ name })).sort(llamaTensorOrder).map((t) => t.name)).toEqual([
      "output.weight", "blk.2.a", "blk.2.b", "blk.10.a",
    ]);
  });

  it("refuses an unknown type naming the supported ones, OUT == IN, and an existing OUT without force", async () => {
    const input = modelFile(F32_FIXTURE);
    await expect(quantizeModel(input, path.join(dir, "x.gguf"), "Q9_9")).rejects.toThrow(/unknown quantization type "Q9_9" \(supported: F32, F16, .*Q4_K_M/);
    await expect(quantizeModel(input, input, "Q4_0", { force: true })).rejects.toThrow(/is the input file/);
    const existing = path.join(dir, "existing.gguf");
    fs.writeFileSync(existing, "x");
    await expect(quantizeModel(input, existing, "Q4_0")).rejects.toThrow(/already exists/);
    expect(fs.readFileSync(existing, "utf8")).toBe("x");
  });

  it("leaves nothing behind when a tensor fails", async () => {
    const out = path.join(dir, "failed.gguf");
    const failing = quantizeModel(modelFile(F32_FIXTURE), out, "Q4_0", {
      onTensor: (p) => {
        if (p.index === 5) throw new AbortError("stop here");
      },
    });
    await expect(failing).rejects.toBeInstanceOf(AbortError);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(`${out}.partial`)).toBe(false);
  });

  it("our Q4_0 of the F32 fixture generates the Q4_0 fixture's greedy text (made by llama.cpp's quantizer)", async () => {
    const out = path.join(dir, "gen-Q4_0.gguf");
    await quantizeModel(modelFile(F32_FIXTURE), out, "Q4_0", { force: true });
    const ours = await runOurs(out, "Once upon a time", 40);
    const fixture = await runOurs(modelFile("TinyStories-656K-Q4_0.gguf"), "Once upon a time", 40);
    expect(ours.greedyTokens).toHaveLength(40);
    expect(ours.greedyTokens).toEqual(fixture.greedyTokens);
  });

  it("a K-quant mix of the synthetic model loads and generates", async () => {
    const out = path.join(dir, "gen-Q4_K_M.gguf");
    await quantizeModel(synthetic, out, "Q4_K_M", { force: true });
    const run = await runOurs(out, "hello", 8);
    expect(run.greedyTokens).toHaveLength(8);
  });
});
