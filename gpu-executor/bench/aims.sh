#!/usr/bin/env bash
# The GPU work's figures beside their peers, in one run on one machine: a nightly regression
# of the kernels and the engine, each figure printed with its floor (our bench) and the peer
# measured the same hour (cuBLAS, torch SDPA, fla, transformers).
#   kernels    bench kernels: GEMM (cp.async and tensor-copy loads), fp8, MoE, MLA prefill
#   kpeers     cublas_gemm.py, sdpa_mla.py, and fla_chunk_kda.py where fla is importable
#   engine     the 4-layer model of the 48B shapes built on the GPU (no checkpoint): generate
#              64 and 256 requests of 1,024 + 128 tokens, prefill 256 x 1,024, one prompt of
#              32,768 and of 131,072 tokens, all on one loaded model
#   epeers     transformers on the same shapes: generate 16 x 1,024 + 128, prefill 8k/32k/131k
#   fullsize   Kimi-Linear-48B-A3B at full size in fp8 (full_size.sh)
#   relief     KunServe memory relief against plain preemption on a burst of 8k-token prompts:
#              two replicas of the 4-layer model on GPU 0 (written to $TMPDIR/kimi-4layers once,
#              12.8 GB), 64 MB of cache each until they pool
# Each part runs under its own time limit (LIMIT_S, default 900) with its output in
# OUT_DIR/<part>.log; a part that fails or outlasts its limit is reported and the others go on.
# Run from the project root:
#   gpu-executor/bench/aims.sh KIMI OUT_DIR [PART ...]      (default: every part, in this order)
# KIMI is bin/kimi, or a bundle's launcher where there is no Java or Maven (bin/kimi-bundle).
set -uo pipefail
kimi=${1:?usage: aims.sh KIMI OUT_DIR [kernels|kpeers|engine|epeers|fullsize|relief ...]}
out=${2:?output folder}
shift 2
parts=("${@:-kernels kpeers engine epeers fullsize relief}")
read -r -a parts <<< "${parts[*]}"
limit=${LIMIT_S:-900}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"

# part NAME COMMAND...: COMMAND (a program, or one of the functions below) under the limit
part() {
  local name=$1 start rc
  shift
  start=$(date +%s)
  kimi="$kimi" here="$here" timeout -k 10 "$limit" bash -c "$(declare -f engine kpeers epeers relief); \"\$@\"" part "$@" \
    > "$out/$name.log" 2>&1
  rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "$name: did not finish in $limit s (log: $out/$name.log)"
  else
    echo "$name: exit $rc in $(( $(date +%s) - start )) s (log: $out/$name.log)"
  fi
}

engine() {
  "$kimi" bench engine --backend cuda --random-config "$here/kimi_linear_48b_4layers.json" --seed 0 \
    --scenario generate:1024:64:128 --scenario generate:1024:256:128 --scenario prefill:1024:256 \
    --scenario prefill:32768:1 --scenario prefill:131072:1
}

kpeers() {
  python3 "$here/cublas_gemm.py"
  python3 "$here/sdpa_mla.py"
  if python3 -c "import fla" 2>/dev/null; then
    python3 "$here/fla_chunk_kda.py"
  else
    echo "fla is not importable here: the KDA peer did not run"
  fi
}

epeers() {
  python3 "$here/transformers_generate.py" --batches 16
  python3 "$here/transformers_prefill.py"
}

relief() {
  local dir=${TMPDIR:-/tmp}/kimi-4layers
  [ -f "$dir/config.json" ] || "$kimi" model init --config "$here/kimi_linear_48b_4layers.json" --out "$dir" || return
  "$kimi" bench relief --model "$dir" --backend cuda --devices 0,0 --cache-per-rank 64000000 --requests 16 \
    --prompt-len 8192 --max-tokens 64
}

for p in "${parts[@]}"; do
  case "$p" in
    kernels) part kernels "$kimi" bench kernels gemm fp8 moe mla-prefill ;;
    kpeers) part kpeers kpeers ;;
    engine) part engine engine ;;
    epeers) part epeers epeers ;;
    fullsize) part fullsize "$here/full_size.sh" "$kimi" fp8 ;;
    relief) part relief relief ;;
    *) echo "aims.sh: unknown part '$p' (kernels, kpeers, engine, epeers, fullsize, relief)" >&2; exit 2 ;;
  esac
done
# the lines that carry the figures, part by part
grep -H -E "TFLOP/s|GB/s|tokens/s|decode steps|roofline|first token|ms per|preempt|relief|did not" "$out"/*.log \
  > "$out/summary.txt" 2>/dev/null
echo "summary: $out/summary.txt"
