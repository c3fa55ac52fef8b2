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
//
// Layout kQ4kTiles16 (Q4_K, 144-byte super-blocks of 256 values; nRows a multiple of 16): tile t
// as above; super-block b of the 16 rows is 2304 bytes at 2304·b, every field row-major in lanes
// (row r at lane r), so one zmm load holds a field of all 16 rows:
//   [0, 32)       the 16 f16 d
//   [32, 64)      the 16 f16 dmin
//   [64, 256)     the 12 scale bytes as 3 dwords: dword w of row r at 64 + 64w + 4r
//   [256, 2304)   the 128 code bytes as 32 dwords: dword k of row r at 256 + 64k + 4r
#pragma once

#include <cstddef>
#include <cstdint>

namespace ls {

/** Added to a weight type number: the weights are packed (in the layout above for that type). */
constexpr int kPackedTypeFlag = 0x100;
/** Rows per packed tile. */
constexpr int kPackRows = 16;
/** Bytes of one block of 16 rows in a kTiles16 tile. */
constexpr size_t kTile16BlockBytes = 16 * 18;
/** Bytes of one super-block of 16 rows in a kQ4kTiles16 tile. */
constexpr size_t kQ4kTile16BlockBytes = 16 * 144;

/** The row whose scale lane L of a kTiles16 block holds. */
static inline int packedScaleRow(int lane) { return 4 * (lane % 4) + lane / 4; }

/** Whether weights of this type and shape can be packed (Q4_0, IQ4_NL, Q4_K; 16 | nRows). */
bool packable(int weightType, int64_t nCols, int64_t nRows);

/** Packs tiles [tile0, tile1) of row-major src into dst (the same byte ranges; packable shapes). */
void packTiles16(int weightType, const uint8_t* src, uint8_t* dst, size_t rowBytes, int64_t tile0, int64_t tile1);

/** Unpacks rows [row0, row1) (whole tiles) of packed weights into row-major dst (row row0 at dst). */
void unpackTiles16(int weightType, const uint8_t* packed, uint8_t* dst, size_t rowBytes, int64_t row0, int64_t row1);

}  // namespace ls
