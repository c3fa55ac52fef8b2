// kTiles16 packing and unpacking (generic/pack.h), plain byte moves.
#include "generic/pack.h"

#include <cstring>

#include "generic/kernels.h"

namespace ls {

bool packable(int weightType, int64_t nCols, int64_t nRows) {
  if (weightType != kQ4_0 && weightType != kIQ4_NL) return false;
  return nCols > 0 && nCols % kQK == 0 && nRows > 0 && nRows % kPackRows == 0;
}

void packTiles16(const uint8_t* src, uint8_t* dst, size_t rowBytes, int64_t tile0, int64_t tile1) {
  const size_t nBlocks = rowBytes / 18;
  for (int64_t t = tile0; t < tile1; t++) {
    const uint8_t* rows = src + static_cast<size_t>(t) * kPackRows * rowBytes;
    uint8_t* tile = dst + static_cast<size_t>(t) * kPackRows * rowBytes;
    for (size_t b = 0; b < nBlocks; b++) {
      uint8_t* out = tile + b * kTile16BlockBytes;
      for (int lane = 0; lane < kPackRows; lane++) std::memcpy(out + 2 * lane, rows + packedScaleRow(lane) * rowBytes + 18 * b, 2);
      for (int r = 0; r < kPackRows; r++) std::memcpy(out + 32 + 16 * r, rows + r * rowBytes + 18 * b + 2, 16);
    }
  }
}

void unpackTiles16(const uint8_t* packed, uint8_t* dst, size_t rowBytes, int64_t row0, int64_t row1) {
  const size_t nBlocks = rowBytes / 18;
  for (int64_t r0 = row0; r0 < row1; r0 += kPackRows) {
    const uint8_t* tile = packed + static_cast<size_t>(r0) * rowBytes;
    uint8_t* rows = dst + static_cast<size_t>(r0 - row0) * rowBytes;
    for (size_t b = 0; b < nBlocks; b++) {
      const uint8_t* in = tile + b * kTile16BlockBytes;
      for (int lane = 0; lane < kPackRows; lane++) std::memcpy(rows + packedScaleRow(lane) * rowBytes + 18 * b, in + 2 * lane, 2);
      for (int r = 0; r < kPackRows; r++) std::memcpy(rows + r * rowBytes + 18 * b + 2, in + 32 + 16 * r, 16);
    }
  }
}

}  // namespace ls
