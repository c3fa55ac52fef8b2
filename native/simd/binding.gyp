# layerstream_simd: built by `node-gyp rebuild` run in this directory (see install.mjs).
# Sources by folder (README.md, "Layout"): core/ and generic/ with baseline flags, arm/ (NEON on
# aarch64, an empty table elsewhere), x86/ as one static library per ISA with its own target
# flags, so the addon still runs on CPUs without AVX-512 (or without AVX2): generic/cpu.cc picks
# a path at run time. Includes are relative to src/ ("generic/kernels.h").
{
  "variables": {
    "ls_common_cflags": ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fPIC", "-fvisibility=hidden"],
  },
  "target_defaults": {
    "include_dirs": ["src"],
    "cflags_cc!": ["-fno-exceptions", "-O2", "-O0"],
    "cflags!": ["-O2", "-O0"],
    "cflags_cc": ["-std=c++17", "<@(ls_common_cflags)"],
    "xcode_settings": {
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_OPTIMIZATION_LEVEL": "3",
      "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off", "-fno-math-errno"],
    },
    "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17", "/fp:precise", "/O2"] } },
  },
  "targets": [
    {
      "target_name": "layerstream_simd",
      "sources": [
        "src/core/addon.cc",
        "src/core/addon_ops.cc",
        "src/core/engine.cc",
        "src/core/engine_ops.cc",
        "src/core/file_advice.cc",
        "src/core/threadpool.cc",
        "src/core/weight_memory.cc",
        "src/core/weight_sequence.cc",
        "src/generic/act.cc",
        "src/generic/attention.cc",
        "src/generic/cpu.cc",
        "src/generic/ops.cc",
        "src/generic/pack.cc",
        "src/generic/route.cc",
        "src/generic/scalar_kernels.cc",
        "src/generic/scalar_kquants.cc",
        "src/generic/scalar_iq4.cc",
        "src/arm/neon_kernels.cc",
        "src/arm/neon_kquants.cc",
        "src/arm/neon_iq4.cc",
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-pthread"], "cflags_cc": ["-pthread"] }],
        ["target_arch=='x64'", {
          "dependencies": ["layerstream_simd_avx2", "layerstream_simd_avx512"],
        }],
        ["target_arch!='x64'", {
          "sources": ["src/x86/absent.cc"],
        }],
      ],
    },
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "layerstream_simd_avx2",
          "type": "static_library",
          "sources": ["src/x86/avx2_kernels.cc", "src/x86/avx2_attention.cc", "src/x86/avx2_ops.cc"],
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off", "-mavx2", "-mfma", "-mf16c"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX2"] } },
        },
        {
          "target_name": "layerstream_simd_avx512",
          "type": "static_library",
          "sources": [
            "src/x86/avx512_attention.cc",
            "src/x86/avx512_attention_heads.cc",
            "src/x86/avx512_flash.cc",
            "src/x86/avx512_block32.cc",
            "src/x86/avx512_float.cc",
            "src/x86/avx512_kernels.cc",
            "src/x86/avx512_kquants.cc",
            "src/x86/avx512_ops.cc",
            "src/x86/avx512_panels.cc",
            "src/x86/avx512_q4k_packed.cc",
          ],
          # -Wno-*uninitialized: GCC 12 warns about the _mm256_undefined_* inside its own AVX-512 headers
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512vnni",
                        "-Wno-uninitialized", "-Wno-maybe-uninitialized"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off", "-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512vnni"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX512"] } },
        },
      ],
    }],
  ],
}
