"""Times transformers' KimiLinearForCausalLM generating a batch, for a side-by-side run with
`bin/kimi bench engine --requests N --prompt-len L --max-tokens M`.

The model is built with random weights on the GPU from a config (`from_config` under
torch.device("cuda"), bf16, sdpa attention; no checkpoint on disk): by default the Kimi-Linear-48B
layer shapes cut to 4 layers (kimi_linear_48b_4layers.json beside this script). N random prompts
of L tokens go through one `generate` call (greedy, or sampled with --temperature/--top-p), with
exactly M new tokens each (EOS ignored), as our bench does. Reports output tokens/s over the whole
call and, separately, the time of the first token (prefill) so that decode tokens/s can be
compared too. Batches that do not fit are reported as out of memory (on the H100 80GB, from 32
prompts of 1,024 tokens up: generate keeps the prompt's logits for every position).

    python3 transformers_generate.py [--config CONFIG.json] [--batches 64,256] [--prompt-len 1024]
        [--max-tokens 128] [--temperature 0] [--top-p 1]
"""
import argparse
import time

import torch

import random_model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=random_model.DEFAULT_CONFIG)
    ap.add_argument("--batches", default="64,256")
    ap.add_argument("--prompt-len", type=int, default=1024)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--top-p", type=float, default=1.0)
    args = ap.parse_args()
    model = random_model.build(args.config)
    sampling = dict(do_sample=args.temperature > 0)
    if args.temperature > 0:
        sampling.update(temperature=args.temperature, top_p=args.top_p, top_k=0)
    for batch in [int(x) for x in args.batches.split(",")]:
        ids = torch.randint(0, 163000, (batch, args.prompt_len), device="cuda")
        mask = torch.ones_like(ids)
        try:
            with torch.inference_mode():
                model.generate(input_ids=ids[:, :32], attention_mask=mask[:, :32], max_new_tokens=4, min_new_tokens=4,
                               pad_token_id=0, **sampling)   # warm-up
                torch.cuda.synchronize()
                start = time.perf_counter()
                model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=1, min_new_tokens=1, pad_token_id=0,
                               **sampling)
                torch.cuda.synchronize()
                first = time.perf_counter() - start
                start = time.perf_counter()
                out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=args.max_tokens,
                                     min_new_tokens=args.max_tokens, pad_token_id=0, **sampling)
                torch.cuda.synchronize()
                total = time.perf_counter() - start
        except torch.OutOfMemoryError as e:
            print(f"transformers generate {batch} x {args.prompt_len} + {args.max_tokens}: out of memory "
                  f"({str(e).splitlines()[0]})", flush=True)
            torch.cuda.empty_cache()
            continue
        new = (out.shape[1] - args.prompt_len) * batch
        decode = max(total - first, 1e-9)
        print(f"transformers generate {batch} x {args.prompt_len} + {args.max_tokens}: {total:.3f} s = "
              f"{new / total:.1f} output tokens/s overall; prefill {first:.3f} s; decode "
              f"{batch * (args.max_tokens - 1) / decode:.1f} tokens/s", flush=True)
        del out
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
