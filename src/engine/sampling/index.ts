export { Sampler } from "./sampler.js";
export { DEFAULT_SAMPLER_OPTIONS, resolveSamplerOptions, type SamplerOptions } from "./options.js";
export { SamplerInputError, SamplerOptionsError, type SamplerOptionName } from "./errors.js";
export { createRng, Mt19937, type Rng } from "./rng.js";
