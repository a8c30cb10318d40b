#!/usr/bin/env bash
# The cost of Spark around the engine, on a GPU machine: the same prompts, model and engine settings
# through the Spark job (conf/jobs/gpu-throughput.yaml, local mode, the driver's GPU found by
# conf/spark/getGpusResources.sh) and through bin/kimi bench engine --prompts; prints both rates and
# their ratio. Run from the project root:
#   gpu-executor/bench/spark_overhead.sh KIMI [PROMPTS] [MAX_TOKENS]
# KIMI is bin/kimi here, or a bundle's launcher where there is no Java or Maven (bin/kimi-bundle).
# The model is made on first use under /tmp/kimi-48b-4layers (12.8 GB, about a minute).
set -euo pipefail
kimi=${1:?usage: spark_overhead.sh KIMI [PROMPTS] [MAX_TOKENS]}
prompts=${2:-256}
max_tokens=${3:-128}
model=${KIMI_OVERHEAD_MODEL:-/tmp/kimi-48b-4layers}
file=/tmp/overhead-prompts.jsonl
out=${OUT:-/tmp}/spark-overhead
mkdir -p "$out"
# prompts of about 1,000 tokens of plain words, seeded
python3 - "$file" "$prompts" <<'PY'
import json, random, sys
words = ("the of and to in is was for on that with as by at from this be are an or it which have not but had "
         "model token spark engine batch layer cache state expert gate value query key latent page chunk step "
         "river stone cloud light north paper garden window music number letter question answer reason").split()
rng = random.Random(0)
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(json.dumps({"id": i, "text": " ".join(rng.choice(words) for _ in range(700))}) + "\n")
PY
rm -rf "$out/run"
"$kimi" eval conf/jobs/gpu-throughput.yaml --set model.dir="$model" --set generate.input="$file" \
  --set sampling.max_tokens="$max_tokens" --set output.dir="$out/run" | tee "$out/job.txt"
"$kimi" bench engine --model "$model" --backend cuda --prompts "$file" --max-tokens "$max_tokens" \
  --max-batch-tokens 8192 --prefill-chunk 8192 --max-sequences 256 | tee "$out/bench.txt"
job=$(sed -n 's/.*(\([0-9.]*\) output tokens\/s).*/\1/p' "$out/job.txt" | head -1)
generating=$(sed -n 's/.*: \([0-9.]*\) output tokens\/s generating.*/\1/p' "$out/job.txt" | head -1)
bench=$(sed -n 's/^generate: .* = \([0-9.]*\) output tokens\/s overall.*/\1/p' "$out/bench.txt" | head -1)
python3 - "$job" "${generating:-$job}" "$bench" <<'PY'
import sys
job, generating, bench = map(float, sys.argv[1:])
print(f"spark overhead: the job {job:.1f} output tokens/s ({generating:.1f} once the model is loaded), "
      f"bench engine {bench:.1f}: ratio {job / bench:.3f} ({generating / bench:.3f} once loaded)")
PY
