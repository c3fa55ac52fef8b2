#!/usr/bin/env bash
# Builds tools/isa_check.cc against the engine (no Node) and checks that every ISA path agrees;
# with an aarch64 cross compiler and qemu-aarch64 (apt: g++-aarch64-linux-gnu qemu-user) it also
# runs the aarch64 build and checks that it prints the same hashes as this machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/../src"
out="$(mktemp -d)"
flags=(-O2 -std=c++17 -ffp-contract=off -fno-math-errno -pthread -I"$src")
common=("$src"/act.cc "$src"/attention.cc "$src"/cpu.cc "$src"/engine.cc "$src"/kernels_scalar.cc "$src"/threadpool.cc "$src"/kernels_neon.cc)
if [ "$(uname -m)" = x86_64 ]; then
  g++ "${flags[@]}" -mavx2 -mfma -mf16c -c "$src/kernels_avx2.cc" -o "$out/avx2.o"
  g++ "${flags[@]}" -mavx2 -mfma -mf16c -c "$src/attention_avx2.cc" -o "$out/attention_avx2.o"
  avx512=(-mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -Wno-uninitialized -Wno-maybe-uninitialized)
  g++ "${flags[@]}" "${avx512[@]}" -c "$src/kernels_avx512.cc" -o "$out/avx512.o"
  g++ "${flags[@]}" "${avx512[@]}" -c "$src/attention_avx512.cc" -o "$out/attention_avx512.o"
  g++ "${flags[@]}" "$here/isa_check.cc" "${common[@]}" "$out/avx2.o" "$out/attention_avx2.o" "$out/avx512.o" "$out/attention_avx512.o" -o "$out/isa_check"
else
  g++ "${flags[@]}" "$here/isa_check.cc" "${common[@]}" "$src/kernels_x86_absent.cc" -o "$out/isa_check"
fi
"$out/isa_check" | tee "$out/native.txt"
if command -v aarch64-linux-gnu-g++ >/dev/null && command -v qemu-aarch64 >/dev/null && [ "$(uname -m)" != aarch64 ]; then
  aarch64-linux-gnu-g++ "${flags[@]}" -static "$here/isa_check.cc" "${common[@]}" "$src/kernels_x86_absent.cc" -o "$out/isa_check_arm64" 2>/dev/null
  if ! qemu-aarch64 "$out/isa_check_arm64" > "$out/arm64.txt"; then
    grep -E "MISMATCH|DISAGREE" "$out/arm64.txt"; echo "aarch64 (qemu): its ISA paths DISAGREE"; exit 1
  fi
  if diff <(grep -E "^(type|attention)" "$out/native.txt") <(grep -E "^(type|attention)" "$out/arm64.txt") >/dev/null; then
    echo "aarch64 (qemu): same hashes for all $(grep -cE "^(type|attention)" "$out/arm64.txt") cases"
  else
    echo "aarch64 (qemu): hashes DIFFER"; exit 1
  fi
fi
