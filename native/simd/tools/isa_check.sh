#!/usr/bin/env bash
# Builds tools/isa_check.cc against the engine (no Node) and checks that every ISA path agrees;
# with an aarch64 cross compiler and qemu-aarch64 (apt: g++-aarch64-linux-gnu qemu-user) it also
# runs the aarch64 build and checks that it prints the same hashes as this machine.
#
# Sources by folder, as in binding.gyp: core/ (engine and pool; not the N-API files), generic/
# (baseline flags), x86/avx2_*.cc (AVX2 flags), x86/avx512_*.cc (AVX-512 flags), arm/ (NEON on
# aarch64, an empty table elsewhere), x86/absent.cc on other architectures than x86-64.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/../src"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
flags=(-O2 -std=c++17 -ffp-contract=off -fno-math-errno -pthread -I"$src")
common=("$src"/core/engine.cc "$src"/core/engine_ops.cc "$src"/core/threadpool.cc "$src"/core/weight_sequence.cc "$src"/generic/*.cc "$src"/arm/*.cc)
avx2=(-mavx2 -mfma -mf16c)
avx512=(-mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -Wno-uninitialized -Wno-maybe-uninitialized)
cross=0
if command -v aarch64-linux-gnu-g++ >/dev/null && command -v qemu-aarch64 >/dev/null && [ "$(uname -m)" != aarch64 ]; then cross=1; fi
# the aarch64 build compiles in the background while this machine's builds and runs
if [ "$cross" = 1 ]; then
  aarch64-linux-gnu-g++ "${flags[@]}" -static "$here/isa_check.cc" "${common[@]}" "$src/x86/absent.cc" -o "$out/isa_check_arm64" 2>"$out/arm64-build.log" &
  cross_pid=$!
fi
if [ "$(uname -m)" = x86_64 ]; then
  objects=()
  for file in "$src"/x86/avx2_*.cc; do
    objects+=("$out/$(basename "$file" .cc).o")
    g++ "${flags[@]}" "${avx2[@]}" -c "$file" -o "${objects[-1]}"
  done
  for file in "$src"/x86/avx512_*.cc; do
    objects+=("$out/$(basename "$file" .cc).o")
    g++ "${flags[@]}" "${avx512[@]}" -c "$file" -o "${objects[-1]}"
  done
  g++ "${flags[@]}" "$here/isa_check.cc" "${common[@]}" "${objects[@]}" -o "$out/isa_check"
else
  g++ "${flags[@]}" "$here/isa_check.cc" "${common[@]}" "$src/x86/absent.cc" -o "$out/isa_check"
fi
"$out/isa_check" | tee "$out/native.txt"
if [ "$cross" = 1 ]; then
  if ! wait "$cross_pid"; then cat "$out/arm64-build.log"; echo "aarch64: the cross build FAILED"; exit 1; fi
  if ! qemu-aarch64 "$out/isa_check_arm64" > "$out/arm64.txt"; then
    grep -E "MISMATCH|DISAGREE" "$out/arm64.txt"; echo "aarch64 (qemu): its ISA paths DISAGREE"; exit 1
  fi
  if diff <(grep -E "^(type|attention)" "$out/native.txt") <(grep -E "^(type|attention)" "$out/arm64.txt") >/dev/null; then
    echo "aarch64 (qemu): same hashes for all $(grep -cE "^(type|attention)" "$out/arm64.txt") cases"
  else
    echo "aarch64 (qemu): hashes DIFFER"; exit 1
  fi
else
  echo "aarch64 (qemu): not checked (needs aarch64-linux-gnu-g++ and qemu-aarch64: apt-get install g++-aarch64-linux-gnu qemu-user)"
fi
