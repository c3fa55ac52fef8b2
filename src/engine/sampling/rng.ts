/**
 * Seeded pseudo-random numbers for sampling.
 *
 * The generator is MT19937 (32-bit Mersenne Twister) seeded like `std::mt19937(seed)`,
 * and `nextFloat` combines two outputs the way libstdc++'s
 * `std::uniform_real_distribution<double>(0, 1)` does. llama.cpp's `dist` sampler draws
 * exactly one such double per sampled token, so with the same seed and the same
 * candidate probabilities we draw the same numbers as a Linux build of llama.cpp.
 */

/** A source of uniform random numbers; the sampler's only randomness. */
export interface Rng {
  /** uniform double in [0, 1) */
  nextFloat(): number;
}

const MT_STATE_SIZE = 624;
const MT_SHIFT_SIZE = 397;
const MT_MATRIX_A = 0x9908b0df;
const MT_UPPER_MASK = 0x80000000;
const MT_LOWER_MASK = 0x7fffffff;
const MT_INIT_MULTIPLIER = 1812433253;

const TWO_POW_32 = 4294967296;
const TWO_POW_64 = TWO_POW_32 * TWO_POW_32;
/** nextafter(1.0, 0.0): the largest double below 1 */
const LARGEST_BELOW_ONE = 1 - 2 ** -53;

/** MT19937, bit-identical to C++ `std::mt19937`. */
export class Mt19937 implements Rng {
  /** u32 [624] generator state */
  private readonly state = new Uint32Array(MT_STATE_SIZE);
  private index = MT_STATE_SIZE;

  /** @param seed an unsigned 32-bit integer (other numbers are reduced modulo 2^32) */
  constructor(seed: number) {
    const state = this.state;
    state[0] = seed >>> 0;
    for (let i = 1; i < MT_STATE_SIZE; i++) {
      const prev = state[i - 1];
      state[i] = (Math.imul(MT_INIT_MULTIPLIER, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  /** next raw output, an unsigned 32-bit integer */
  nextUint32(): number {
    if (this.index >= MT_STATE_SIZE) {
      this.twist();
    }
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * Uniform double in [0, 1) from two outputs, as libstdc++'s
   * `generate_canonical<double, 53>`: (first + second * 2^32) / 2^64, clamped below 1.
   */
  nextFloat(): number {
    const low = this.nextUint32();
    const high = this.nextUint32();
    const value = (low + high * TWO_POW_32) / TWO_POW_64;
    return value >= 1 ? LARGEST_BELOW_ONE : value;
  }

  private twist(): void {
    const state = this.state;
    for (let i = 0; i < MT_STATE_SIZE; i++) {
      const y = (state[i] & MT_UPPER_MASK) | (state[(i + 1) % MT_STATE_SIZE] & MT_LOWER_MASK);
      let next = state[(i + MT_SHIFT_SIZE) % MT_STATE_SIZE] ^ (y >>> 1);
      if (y & 1) {
        next ^= MT_MATRIX_A;
      }
      state[i] = next >>> 0;
    }
    this.index = 0;
  }
}

/** A generator for `seed` (an unsigned 32-bit integer); same seed, same sequence. */
export function createRng(seed: number): Rng {
  return new Mt19937(seed);
}
