// The IQ4 types' shared pieces (IQ4_NL and IQ4_XS): ggml's non-linear code table and IQ4_XS's
// sub-block scales. Included by the scalar, AVX2/AVX-512 (x86/ymm_block32.h, x86/ymm_iq4xs.h) and NEON IQ4
// kernels.
#pragma once

#include <cstdint>

#include "generic/kernels.h"

namespace ls {

/** ggml's kvalues_iq4nl: the codes of IQ4_NL and IQ4_XS */
alignas(16) static constexpr int8_t kIq4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/** The signed scale ls − 32 (−32..31) of sub-block ib (0..7) of an IQ4_XS super-block. */
static inline int iq4XsSubScale(const BlockIQ4_XS* x, int ib) {
  return (((x->scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((x->scales_h >> (2 * ib)) & 3) << 4)) - 32;
}

}  // namespace ls
