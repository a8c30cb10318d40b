"""Parity of our CUDA forward with transformers computing in fp32 on the same checkpoint.

Our side first (on the GPU machine, for each precision):
    kimi logits --model DIR --backend cuda --precision bf16 --input-ids ids.json --decode-steps 16 \
        --row-stride 64 --out ours-bf16.safetensors
Then:
    python3 transformers_parity.py --model DIR --input-ids ids.json ours-bf16.safetensors ours-split.safetensors

transformers loads DIR in fp32 (sdpa attention) and computes the logits of the positions our file
holds (its 'prefill_rows', or every position) and 16 greedy tokens. Prints per file: the prefill
logits' relative error ||ours - ref|| / ||ref||, top-1 agreement over those positions, and greedy
agreement (matching leading tokens and matching tokens of the steps).
"""
import argparse
import json

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--input-ids", required=True, help="JSON array of token ids")
    ap.add_argument("ours", nargs="+", help="safetensors written by `kimi logits`")
    args = ap.parse_args()
    with open(args.input_ids) as f:
        ids = torch.tensor([json.load(f)], device="cuda")
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32, attn_implementation="sdpa",
                                                 device_map="cuda")
    model.eval()
    t = ids.shape[1]
    with torch.inference_mode():
        hidden = model.model(input_ids=ids, use_cache=False).last_hidden_state[0]
        generated = model.generate(ids, max_new_tokens=16, do_sample=False, min_new_tokens=16)[0, t:]
    print(f"transformers fp32: {t} prompt tokens, greedy {generated.tolist()}", flush=True)
    for path in args.ours:
        ours = load_file(path, device="cuda")
        rows = ours["prefill_rows"].long() if "prefill_rows" in ours else torch.arange(t, device="cuda")
        with torch.inference_mode():
            ref = model.lm_head(hidden[rows]).float()
        got = ours["prefill_logits"].float()
        rel = ((got - ref).norm() / ref.norm()).item()
        top1 = (got.argmax(-1) == ref.argmax(-1)).float().mean().item()
        mine = ours["generated_ids"].long() if "generated_ids" in ours else torch.empty(0, device="cuda")
        n = min(len(mine), len(generated))
        same = (mine[:n] == generated[:n]).tolist()
        lead = next((i for i, s in enumerate(same) if not s), n)
        print(f"{path}: {t} tokens, {len(rows)} positions: prefill logits rel err {rel:.3e}, top-1 agreement "
              f"{100 * top1:.2f}%; greedy: first {lead} of {n} tokens match, {sum(same)} of {n} in all "
              f"(ours {mine[:n].tolist()})", flush=True)


if __name__ == "__main__":
    main()
