// Memory for weights the kernels stream once per token (packed copies, resident copies).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ls {

/**
 * nBytes of zeroed memory for weights that matmuls stream: on Linux an anonymous mapping starting
 * on a 2 MiB boundary and advised MADV_HUGEPAGE, so where transparent huge pages are on
 * ("always" or "madvise") every whole 2 MiB of it is one page — one TLB entry instead of 512
 * while a decode step reads gigabytes once (7B Q4_0 shape: 7.6 → 8.5 tok/s; in a virtual machine
 * each missed translation walks two page tables). LAYERSTREAM_HUGE_PAGES=0 leaves the advice out.
 * Elsewhere 64-byte-aligned heap memory.
 * nullptr when the memory is not there; free with freeWeightMemory(pointer, nBytes).
 */
uint8_t* allocateWeightMemory(size_t nBytes);

/** Releases what allocateWeightMemory(nBytes) returned (nullptr: nothing). */
void freeWeightMemory(uint8_t* memory, size_t nBytes);

}  // namespace ls
