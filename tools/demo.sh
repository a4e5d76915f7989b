#!/usr/bin/env bash
# The README's main job: installs what is missing (Debian 12), builds vkmist,
# trains config `tiny` on the built-in phantom data set for a bounded time
# (VKMIST_DEMO_MINUTES, default 10), then prints where the pictures, losses
# and checkpoints are. Re-running continues the same run (--resume).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/deps.sh
vkmist_install_deps
build="${VKMIST_BUILD_DIR:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j"$(nproc)" > /dev/null
vk="$build/vkmist"
run="${VKMIST_DEMO_RUN:-runs/demo-tiny}"
minutes="${VKMIST_DEMO_MINUTES:-10}"

echo "== device"
"$vk" devices
echo "== training config tiny on the built-in phantom for up to $minutes minutes -> $run"
"$vk" train --config tiny --out "$run" --iters 20000 --minutes "$minutes" \
    --sample-every 200 --eval-every 400 --ckpt-every 400 --resume
echo
echo "== results"
echo "sample pictures: $(ls -1 "$run"/samples/*.png | tail -1)  (all in $run/samples/)"
echo "losses:          $run/train.csv"
echo "validation:      $run/val.csv"
echo "checkpoints:     $run/ckpt/"
