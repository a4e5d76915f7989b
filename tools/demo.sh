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

# Imputation and evaluation with the newest checkpoint (vkmist impute / eval).
ckpt="$(ls -1 "$run"/ckpt/step_*.safetensors | tail -1)"
phantom="${XDG_CACHE_HOME:-$HOME/.cache}/vkmist/phantom-default"
held_out="$(tr -d '\n\t ' < "$run/split.json" | sed -n 's/.*"test":\["\([^"]*\)".*/\1/p')"
demo_case="$run/impute-demo/$held_out"
echo
echo "== imputing FLAIR of held-out phantom case $held_out (test split) from T1, T1ce and T2"
rm -rf "$demo_case" && mkdir -p "$demo_case"
for m in t1 t1ce t2; do ln -s "$phantom/$held_out/${held_out}_$m.nii.gz" "$demo_case/"; done
"$vk" impute --model "$ckpt" --case "$demo_case" --preview "$run/impute-demo/preview.png"
echo
echo "== evaluation on the phantom's test split (SSIM/PSNR/MAE per modality, with two baselines)"
"$vk" eval --model "$ckpt" --data "$phantom" --split test --max-slices 24 --json "$run/eval.json" --csv "$run/eval.csv"
