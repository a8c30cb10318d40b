#!/usr/bin/env bash
# Runs one `bench engine` command once as it is and then once with each fast path taken out
# (README, "When the GPU stops answering"), each under a time limit: a run that stops finishing
# when a switch is off, or starts finishing when it is on, points at that path. A run past its
# limit gets a thread dump (kill -3) before it is killed, and the stall watch's report of the
# device's last launches is in its log. Run from the project root:
#   gpu-executor/bench/engine_bisect.sh KIMI LIMIT_S OUT_DIR [bench engine options ...]
# e.g. gpu-executor/bench/engine_bisect.sh bin/kimi 90 /tmp/bisect --model /tmp/k4 --backend cuda \
#        --prompt-len 1024 --max-tokens 128 --requests 64
set -uo pipefail
kimi=${1:?usage: engine_bisect.sh KIMI LIMIT_S OUT_DIR [bench engine options ...]}
limit=${2:?limit in seconds}
out=${3:?output folder}
shift 3
mkdir -p "$out"
run() {
  local name=$1 opts=$2 start pid
  shift 2
  start=$(date +%s)
  KIMI_JAVA_OPTS="$opts -Dkimi.cuda.stallSeconds=$((limit / 2))" "$kimi" bench engine "$@" > "$out/$name.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ $(( $(date +%s) - start )) -lt "$limit" ]; do sleep 1; done
  if kill -0 "$pid" 2>/dev/null; then
    pkill -3 -P "$pid" 2>/dev/null || kill -3 "$pid"
    sleep 2
    pkill -9 -P "$pid" 2>/dev/null; kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    echo "$name: did not finish in $limit s (log: $out/$name.log)"
  else
    wait "$pid"
    echo "$name: exit $? in $(( $(date +%s) - start )) s"
  fi
}

run as-is "" "$@"
run sync-check "-Dkimi.cuda.syncCheck=true" "$@"
for sw in noDecodeGraphs noSplitK noFusedSwiglu noShortConvDecode routerOnCudaCores; do
  run "$sw" "-Dkimi.cuda.$sw=true" "$@"
done
