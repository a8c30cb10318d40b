"""Times transformers' KimiLinearForCausalLM on whole-prompt prefill, for a side-by-side run with
`bin/kimi bench engine --prompt-len L --requests 1 --max-tokens 1`.

The model is built with random weights on the GPU from a config (`from_config` under
torch.device("cuda"), bf16, sdpa attention; no checkpoint on disk): by default the Kimi-Linear-48B
layer shapes cut to 4 layers (kimi_linear_48b_4layers.json beside this script). One forward per
prompt with logits_to_keep=1, as a server computes a prompt's first token; median of the runs.

    python3 transformers_prefill.py [--config CONFIG.json] [--lengths 8192,32768,131072] [--runs 3]

Each length runs in a process of its own, so that what one length leaves in the caching
allocator cannot fail the next: 32k once ran out of memory after 8k in one process, where
earlier that day it had run on its own.
"""
import argparse
import statistics
import subprocess
import sys
import time

import torch

import random_model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=random_model.DEFAULT_CONFIG)
    ap.add_argument("--lengths", default="8192,32768,131072")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    if len(lengths) > 1:
        for length in lengths:
            subprocess.run([sys.executable, __file__, "--config", args.config, "--lengths", str(length),
                            "--runs", str(args.runs)], check=False)
        return
    model = random_model.build(args.config)
    for length in lengths:
        ids = torch.randint(0, 163000, (1, length), device="cuda")
        times = []
        try:
            with torch.inference_mode():
                model(input_ids=ids, logits_to_keep=1, use_cache=True)   # warm-up
                torch.cuda.synchronize()
                for _ in range(args.runs):
                    start = time.perf_counter()
                    model(input_ids=ids, logits_to_keep=1, use_cache=True)
                    torch.cuda.synchronize()
                    times.append(time.perf_counter() - start)
        except torch.OutOfMemoryError as e:
            print(f"transformers prefill {length} tokens: out of memory ({str(e).splitlines()[0]})", flush=True)
            torch.cuda.empty_cache()
            continue
        print(f"transformers prefill {length} tokens: {statistics.median(times):.3f} s "
              f"({length / statistics.median(times):.0f} tokens/s; runs {', '.join(f'{t:.3f}' for t in times)})",
              flush=True)
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
