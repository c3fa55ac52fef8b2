/**
 * Llama 3.1's RoPE scaling ("rope_type": "llama3" in a Hugging Face config). llama.cpp has no
 * runtime parameters for it: its converter turns factor, low/high frequency factors and the
 * original context length into per-pair frequency divisors, stored as `rope_freqs.weight`
 * (f32 [nRot/2]), which ggml_rope_ext divides each pair's angle by (see RopeTable).
 */

/** The `llama3` rope_scaling parameters of a Hugging Face config. */
export interface Llama3RopeScaling {
  /** divisor of the lowest frequencies (8 for Llama 3.1) */
  readonly factor: number;
  /** wavelengths above originalContextLength / lowFreqFactor are divided by `factor` (1) */
  readonly lowFreqFactor: number;
  /** wavelengths below originalContextLength / highFreqFactor are kept (4) */
  readonly highFreqFactor: number;
  /** context length before scaling (8192) */
  readonly originalContextLength: number;
}

/**
 * The frequency divisors llama.cpp's converter derives (convert_hf_to_gguf.py, LlamaModel):
 * for pair i, freq = base^(−2i/nRot) and wavelength 2π/freq; short wavelengths keep 1, long ones
 * get `factor`, and those in between a smooth blend.
 * @returns f32 [nRot/2], the contents of `rope_freqs.weight`
 */
export function llama3RopeFactors(scaling: Llama3RopeScaling, nRot: number, freqBase: number): Float32Array {
  const { factor, lowFreqFactor, highFreqFactor, originalContextLength } = scaling;
  const lowFreqWavelen = originalContextLength / lowFreqFactor;
  const highFreqWavelen = originalContextLength / highFreqFactor;
  const out = new Float32Array(nRot / 2);
  for (let i = 0; i < out.length; i++) {
    // the converter computes freqs in f32 (torch): base ** (arange(0, nRot, 2) / nRot)
    const freq = Math.fround(1 / Math.fround(Math.pow(freqBase, Math.fround((2 * i) / nRot))));
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highFreqWavelen) out[i] = 1;
    else if (wavelen > lowFreqWavelen) out[i] = factor;
    else {
      const smooth = (originalContextLength / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / factor + smooth);
    }
  }
  return out;
}
