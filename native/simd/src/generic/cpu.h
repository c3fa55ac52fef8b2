// What the CPU running us supports, detected at run time (cpuid + xgetbv on x86).
#pragma once

#include "generic/kernels.h"

namespace ls {

struct CpuFeatures {
  bool avx2 = false;     // AVX2 + FMA + F16C, with OS support for ymm state
  bool avx512 = false;   // AVX-512 F/BW/VL/DQ + VNNI, with OS support for zmm state
  bool avx512vnni = false;
  bool neon = false;     // aarch64 (NEON is part of the base ISA)
  bool amd = false;      // cpuid vendor "AuthenticAMD" (what a software prefetch hint does differs by vendor)
};

CpuFeatures detectCpuFeatures();

/** The best ISA path this binary has kernels for on this CPU. */
Isa bestIsa(const CpuFeatures& cpu);

/** Whether `isa` can run here (compiled in and supported by the CPU). */
bool isaAvailable(const CpuFeatures& cpu, Isa isa);

/** Parses "avx512" | "avx2" | "neon" | "scalar"; returns false for anything else. */
bool parseIsa(const char* name, Isa* out);

/** Compiler name and version this addon was built with. */
const char* compilerDescription();

}  // namespace ls
