# layerstream_simd: built by `node-gyp rebuild` run in this directory (see install.mjs).
# Each ISA's kernels are a static library with its own target flags, so the addon still runs on
# CPUs without AVX-512 (or without AVX2): cpu.cc picks a path at run time.
{
  "variables": {
    "ls_common_cflags": ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fPIC", "-fvisibility=hidden"],
  },
  "target_defaults": {
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
        "src/addon.cc",
        "src/act.cc",
        "src/attention.cc",
        "src/cpu.cc",
        "src/engine.cc",
        "src/engine_ops.cc",
        "src/file_advice.cc",
        "src/kernels_scalar.cc",
        "src/ops.cc",
        "src/threadpool.cc",
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-pthread"], "cflags_cc": ["-pthread"] }],
        ["target_arch=='x64'", {
          "dependencies": ["layerstream_simd_avx2", "layerstream_simd_avx512"],
          "sources": ["src/kernels_neon.cc"],
        }],
        ["target_arch=='arm64'", {
          "sources": ["src/kernels_neon.cc", "src/kernels_x86_absent.cc"],
        }],
        ["target_arch!='x64' and target_arch!='arm64'", {
          "sources": ["src/kernels_neon.cc", "src/kernels_x86_absent.cc"],
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
          "sources": ["src/kernels_avx2.cc", "src/attention_avx2.cc", "src/ops_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off", "-mavx2", "-mfma", "-mf16c"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX2"] } },
        },
        {
          "target_name": "layerstream_simd_avx512",
          "type": "static_library",
          "sources": ["src/kernels_avx512.cc", "src/attention_avx512.cc", "src/ops_avx512.cc"],
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
