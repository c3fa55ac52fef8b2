// allocateWeightMemory: 2 MiB-aligned anonymous mappings advised for transparent huge pages.
#include "core/weight_memory.h"

#include <cstdlib>
#include <cstring>

#if defined(_WIN32)
#include <malloc.h>
#endif

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#define LS_HAVE_MMAP_HUGE 1
#endif

namespace ls {

namespace {

constexpr size_t kHugePageBytes = size_t(2) << 20;

#ifdef LS_HAVE_MMAP_HUGE
/** LAYERSTREAM_HUGE_PAGES=0 leaves the advice out (ordinary pages; read once per process) */
bool hugePagesWanted() {
  static const bool wanted = [] {
    const char* value = std::getenv("LAYERSTREAM_HUGE_PAGES");
    return !(value && std::strcmp(value, "0") == 0);
  }();
  return wanted;
}

size_t pageRounded(size_t nBytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (nBytes + page - 1) / page * page;
}
#endif

}  // namespace

uint8_t* allocateWeightMemory(size_t nBytes) {
  if (nBytes == 0) nBytes = 1;
#ifdef LS_HAVE_MMAP_HUGE
  const size_t length = pageRounded(nBytes);
  // reserve one huge page more, keep the 2 MiB-aligned `length` inside it, return the rest
  const size_t reserved = length + kHugePageBytes;
  void* raw = mmap(nullptr, reserved, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePageBytes - 1) & ~(uintptr_t(kHugePageBytes) - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const size_t tail = start + reserved - (aligned + length);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + length), tail);
  // before any page is touched: the first write then faults in whole huge pages (a failed advice
  // — THP compiled out — leaves ordinary pages, which work the same)
  if (hugePagesWanted()) madvise(reinterpret_cast<void*>(aligned), length, MADV_HUGEPAGE);
  return reinterpret_cast<uint8_t*>(aligned);
#elif defined(_WIN32)
  const size_t length = (nBytes + 63) / 64 * 64;
  void* memory = _aligned_malloc(length, 64);
  if (memory) std::memset(memory, 0, length);
  return static_cast<uint8_t*>(memory);
#else
  const size_t length = (nBytes + 63) / 64 * 64;
  void* memory = std::aligned_alloc(64, length);
  if (memory) std::memset(memory, 0, length);
  return static_cast<uint8_t*>(memory);
#endif
}

void freeWeightMemory(uint8_t* memory, size_t nBytes) {
  if (!memory) return;
#ifdef LS_HAVE_MMAP_HUGE
  munmap(memory, pageRounded(nBytes == 0 ? 1 : nBytes));
#elif defined(_WIN32)
  (void)nBytes;
  _aligned_free(memory);
#else
  (void)nBytes;
  std::free(memory);
#endif
}

}  // namespace ls
