// Weights packed for the matmul kernels (what llama.cpp's CPU_REPACK buffer does at load): the
// same bytes in another order, so a kernel streams one contiguous run per tile of rows instead of
// one per row. Only the order changes, never a value, so every output keeps its bits.
//
// Layout kTiles16 (Q4_0 and IQ4_NL, 18-byte blocks of 32 values; nRows a multiple of 16): tile t
// (rows 16t..16t+15) takes the bytes rows 16t.. took, [16t·rowBytes, 16(t+1)·rowBytes); inside it
// block b of the 16 rows is 288 bytes at 288·b:
//   [0, 32)     the 16 f16 scales, lane L holding row packedScaleRow(L) (the row order the
//               AVX-512 kernels' 4×4 transposes leave, so one load widens them in place)
//   [32, 288)   the 16 code bytes of row r at 32 + 16r
#pragma once

#include <cstddef>
#include <cstdint>

namespace ls {

/** Added to a weight type number: the weights are packed (the layout packedLayoutFor names). */
constexpr int kPackedTypeFlag = 0x100;
/** Rows per packed tile. */
constexpr int kPackRows = 16;
/** Bytes of one block of 16 rows in a kTiles16 tile. */
constexpr size_t kTile16BlockBytes = 16 * 18;

/** The row whose scale lane L of a kTiles16 block holds. */
static inline int packedScaleRow(int lane) { return 4 * (lane % 4) + lane / 4; }

/** Whether weights of this type and shape can be packed (kTiles16: Q4_0, IQ4_NL, 16 | nRows). */
bool packable(int weightType, int64_t nCols, int64_t nRows);

/** Packs tiles [tile0, tile1) of row-major src into dst (the same byte ranges; packable shapes). */
void packTiles16(const uint8_t* src, uint8_t* dst, size_t rowBytes, int64_t tile0, int64_t tile1);

/** Unpacks rows [row0, row1) (whole tiles) of packed weights into row-major dst (row row0 at dst). */
void unpackTiles16(const uint8_t* packed, uint8_t* dst, size_t rowBytes, int64_t row0, int64_t row1);

}  // namespace ls
