#include "generic/cpu.h"

#include <cstring>
#include <initializer_list>

#if defined(__x86_64__) || defined(_M_X64)
#define LS_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace ls {

#if LS_X86
namespace {

void cpuid(unsigned leaf, unsigned subleaf, unsigned regs[4]) {
#if defined(_MSC_VER)
  int r[4];
  __cpuidex(r, static_cast<int>(leaf), static_cast<int>(subleaf));
  for (int i = 0; i < 4; i++) regs[i] = static_cast<unsigned>(r[i]);
#else
  __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
#endif
}

unsigned long long xgetbv0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
#endif
}

}  // namespace
#endif

CpuFeatures detectCpuFeatures() {
  CpuFeatures f;
#if LS_X86
  unsigned r[4];
  cpuid(0, 0, r);
  const unsigned maxLeaf = r[0];
  f.amd = r[1] == 0x68747541u && r[3] == 0x69746e65u && r[2] == 0x444d4163u;  // "Auth" "enti" "cAMD"
  if (maxLeaf < 7) return f;
  cpuid(1, 0, r);
  const bool fma = (r[2] >> 12) & 1, osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1, f16c = (r[2] >> 29) & 1;
  if (!osxsave || !avx) return f;
  const unsigned long long xcr0 = xgetbv0();
  const bool ymmState = (xcr0 & 0x6) == 0x6;
  const bool zmmState = (xcr0 & 0xe6) == 0xe6;
  cpuid(7, 0, r);
  const bool avx2 = (r[1] >> 5) & 1;
  const bool avx512f = (r[1] >> 16) & 1, avx512dq = (r[1] >> 17) & 1, avx512bw = (r[1] >> 30) & 1,
             avx512vl = (r[1] >> 31) & 1;
  const bool avx512vnni = (r[2] >> 11) & 1;
  f.avx2 = ymmState && avx2 && fma && f16c;
  f.avx512vnni = f.avx2 && zmmState && avx512f && avx512vnni;
  f.avx512 = f.avx2 && zmmState && avx512f && avx512dq && avx512bw && avx512vl && avx512vnni;
#elif defined(__aarch64__) || defined(_M_ARM64)
  f.neon = true;
#endif
  return f;
}

bool isaAvailable(const CpuFeatures& cpu, Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
#if LS_X86
    case Isa::Avx2: return cpu.avx2;
    case Isa::Avx512: return cpu.avx512;
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
    case Isa::Neon: return cpu.neon;
#endif
    default: return false;
  }
}

Isa bestIsa(const CpuFeatures& cpu) {
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Neon}) {
    if (isaAvailable(cpu, isa)) return isa;
  }
  return Isa::Scalar;
}

bool parseIsa(const char* name, Isa* out) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (std::strcmp(name, isaName(isa)) == 0) {
      *out = isa;
      return true;
    }
  }
  return false;
}

const char* isaName(Isa isa) {
  switch (isa) {
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
    default: return "scalar";
  }
}

const char* compilerDescription() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#elif defined(_MSC_VER)
#define LS_STR2(x) #x
#define LS_STR(x) LS_STR2(x)
  return "msvc " LS_STR(_MSC_FULL_VER);
#else
  return "unknown";
#endif
}

}  // namespace ls
