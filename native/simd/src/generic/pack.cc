// kTiles16 and kQ4kTiles16 packing and unpacking (generic/pack.h), plain byte moves.
#include "generic/pack.h"

#include <cstring>

#include "generic/kernels.h"

namespace ls {

bool packable(int weightType, int64_t nCols, int64_t nRows) {
  const int64_t blockValues = weightType == kQ4_K ? kQK_K : kQK;
  if (weightType != kQ4_0 && weightType != kIQ4_NL && weightType != kQ4_K) return false;
  return nCols > 0 && nCols % blockValues == 0 && nRows > 0 && nRows % kPackRows == 0;
}

namespace {

/**
 * The packed layouts, once: calls move(packedOffset, rowOrderOffset, nBytes) for every piece of
 * a tile (offsets from the tile's first byte, the same in both orders). kTiles16: each block's 16
 * scales, then its 16 rows of codes; kQ4kTiles16: each super-block's d, dmin, scale dwords and
 * code dwords, 16 rows each.
 */
template <typename Move>
void forEachPiece(int weightType, size_t rowBytes, const Move& move) {
  if (weightType == kQ4_K) {
    for (size_t b = 0; b < rowBytes / sizeof(BlockQ4_K); b++) {
      const size_t block = b * kQ4kTile16BlockBytes;
      for (int r = 0; r < kPackRows; r++) {
        const size_t row = r * rowBytes + sizeof(BlockQ4_K) * b;
        move(block + 2 * r, row, size_t(2));
        move(block + 32 + 2 * r, row + 2, size_t(2));
        for (int w = 0; w < 3; w++) move(block + 64 + 64 * w + 4 * r, row + 4 + 4 * w, size_t(4));
        for (int k = 0; k < 32; k++) move(block + 256 + 64 * k + 4 * r, row + 16 + 4 * k, size_t(4));
      }
    }
    return;
  }
  const size_t blockBytes = sizeof(BlockQ4_0);  // IQ4_NL's blocks too: an f16 scale and 16 code bytes
  for (size_t b = 0; b < rowBytes / blockBytes; b++) {
    const size_t block = b * kTile16BlockBytes;
    for (int lane = 0; lane < kPackRows; lane++) move(block + 2 * lane, packedScaleRow(lane) * rowBytes + blockBytes * b, size_t(2));
    for (int r = 0; r < kPackRows; r++) move(block + 32 + 16 * r, r * rowBytes + blockBytes * b + 2, size_t(16));
  }
}

}  // namespace

void packTiles16(int weightType, const uint8_t* src, uint8_t* dst, size_t rowBytes, int64_t tile0, int64_t tile1) {
  for (int64_t t = tile0; t < tile1; t++) {
    const size_t at = static_cast<size_t>(t) * kPackRows * rowBytes;
    forEachPiece(weightType, rowBytes, [&](size_t packed, size_t rowOrder, size_t n) { std::memcpy(dst + at + packed, src + at + rowOrder, n); });
  }
}

void unpackTiles16(int weightType, const uint8_t* packed, uint8_t* dst, size_t rowBytes, int64_t row0, int64_t row1) {
  for (int64_t r0 = row0; r0 < row1; r0 += kPackRows) {
    const uint8_t* tile = packed + static_cast<size_t>(r0) * rowBytes;
    uint8_t* rows = dst + static_cast<size_t>(r0 - row0) * rowBytes;
    forEachPiece(weightType, rowBytes, [&](size_t inTile, size_t rowOrder, size_t n) { std::memcpy(rows + rowOrder, tile + inTile, n); });
  }
}

}  // namespace ls
