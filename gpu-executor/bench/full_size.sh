#!/usr/bin/env bash
# The released Kimi-Linear-48B-A3B at full size on one GPU, with no checkpoint on disk: its
# 27 layers built from conf/models/kimi-linear-48b-a3b.json with seeded random weights as they
# load, then, on the one loaded model, the memory plan for one 1M-token sequence, prefill of
# 8k-token prompts, decode of 256 sequences at 4k context, and time to first token at 128k.
# The 256 outputs of 256 tokens outlast the prompts' 128 prefill steps, so most decode-only
# steps hold nearly every sequence (the bench prints their mean and the floor at it).
# Then FP8 against bf16 on the 4-layer model of the same shapes: prefill logits and 256 greedy
# steps (kimi logits twice, compare_logits.py). Run from the project root:
#   gpu-executor/bench/full_size.sh KIMI [fp8|bf16 ...]
# KIMI is bin/kimi here, or a bundle's launcher where there is no Java or Maven (bin/kimi-bundle).
# bf16 needs about 98 GB of weights: an H200, not an H100.
set -euo pipefail
kimi=${1:?usage: full_size.sh KIMI [fp8|bf16 ...]}
shift
precisions=("${@:-fp8}")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for w in "${precisions[@]}"; do
  echo "== Kimi-Linear-48B-A3B, $w weights"
  /usr/bin/time -f "bench wall %e s, host max rss %M KB" "$kimi" bench engine --backend cuda \
    --random-config "$root/conf/models/kimi-linear-48b-a3b.json" --seed 0 --weights "$w" \
    --scenario plan:1048575 --scenario prefill:8192:4 --scenario generate:4096:256:256 \
    --scenario prefill:131072:1
done
ids=${TMPDIR:-/tmp}/full-size-ids.json
python3 -c "import json,random; random.seed(0); print(json.dumps([random.randrange(1000,160000) for _ in range(2048)]))" > "$ids"
for w in bf16 fp8; do
  "$kimi" logits --random-config "$here/kimi_linear_48b_4layers.json" --backend cuda --precision bf16 --weights "$w" \
    --input-ids "$ids" --decode-steps 256 --row-stride 16 --out "${TMPDIR:-/tmp}/full-size-$w.safetensors"
done
python3 "$here/compare_logits.py" "${TMPDIR:-/tmp}/full-size-bf16.safetensors" "${TMPDIR:-/tmp}/full-size-fp8.safetensors"
