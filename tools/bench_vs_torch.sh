#!/usr/bin/env bash
# vkmist against its PyTorch peer on this machine, in one go:
#   tools/bench_vs_torch.sh CONFIG BATCH
# builds vkmist when needed, runs `vkmist bench train` and
# `tools/peer/mist_torch.py bench` (same network, same step, same variant
# cycle and warm-up, median ms per iteration) and prints both, the ratio
# vkmist/torch and the machine, ready to paste into BENCHMARKS.md.
# Environment: ITERS (timed iterations, default 16), TORCH_THREADS (default
# nproc), TORCH_DEVICE (cpu/cuda; default cuda when torch sees one),
# VKMIST_DEVICE (the Vulkan device), PYTHON (default: /usr/bin/python3 when it
# has torch, else python3), VKMIST_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ]; then
    echo "usage: tools/bench_vs_torch.sh CONFIG BATCH   (e.g. tiny 2)" >&2
    exit 2
fi
config=$1 batch=$2
iters=${ITERS:-16}
threads=${TORCH_THREADS:-$(nproc)}
build=${VKMIST_BUILD_DIR:-build}

py=${PYTHON:-}
if [ -z "$py" ]; then
    for cand in /usr/bin/python3 python3; do
        if "$cand" -c 'import torch' >/dev/null 2>&1; then py=$cand; break; fi
    done
fi
if [ -z "$py" ] || ! "$py" -c 'import torch' >/dev/null 2>&1; then
    echo "bench_vs_torch: no python with torch (Debian: apt-get install python3-torch; or set PYTHON)" >&2
    exit 1
fi

. tools/deps.sh
vkmist_install_deps
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target vkmist >/dev/null
vk="$build/vkmist"

# the numbers of one "median X ms per iteration" line
median() { sed -n 's/.*median \([0-9.]*\) ms per iteration.*/\1/p' | head -n1; }

vk_out=$("$vk" bench train --config "$config" --batch "$batch" --iters "$iters" ${VKMIST_DEVICE:+--device "$VKMIST_DEVICE"})
torch_out=$("$py" tools/peer/mist_torch.py bench --vkmist "$vk" --config "$config" --batch "$batch" \
    --iters "$iters" --threads "$threads" ${TORCH_DEVICE:+--device "$TORCH_DEVICE"})
load=$(cut -d' ' -f1-3 /proc/loadavg)
vk_ms=$(median <<<"$vk_out")
# vkmist's FLOP count of the step; the peer does the same work
gflop=$(sed -n 's/^ *\([0-9.]*\) GFLOP per iteration.*/\1/p' <<<"$vk_out" | head -n1)
torch_ms=$(median <<<"$torch_out")

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n1)
dev_line=$("$vk" devices 2>/dev/null | grep -E '^[0-9]+ +\*' | sed 's/  */ /g' || true)
torch_ver=$("$py" -c 'import torch; print(torch.__version__)')
gpu=$("$py" -c 'import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")')

echo "### vkmist vs PyTorch: config $config, batch $batch"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $cpu, $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; load average $load (after the runs)"
echo "- vkmist device: ${dev_line:-?}"
echo "- torch $torch_ver via $py, $threads threads, CUDA device: $gpu"
echo
echo '```'
echo "$vk_out"
echo
echo "$torch_out"
echo '```'
echo
if [ -n "$vk_ms" ] && [ -n "$torch_ms" ]; then
    awk -v a="$vk_ms" -v b="$torch_ms" -v c="$config" -v n="$batch" -v g="${gflop:-0}" 'BEGIN {
        printf "| config | batch | vkmist ms/it | torch ms/it | vkmist / torch | GFLOP/s vkmist, torch (at vkmist'"'"'s FLOP count) |\n";
        printf "|---|---|---|---|---|---|\n";
        printf "| %s | %s | %.1f | %.1f | %.2fx | %.1f, %.1f |\n", c, n, a, b, a / b, g / a * 1e3, g / b * 1e3 }'
else
    echo "bench_vs_torch: could not read a median from one of the runs" >&2
    exit 1
fi
