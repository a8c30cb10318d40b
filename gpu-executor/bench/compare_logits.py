"""Two of our logits files (`kimi logits`) side by side: FP8 weights against bf16, say.

    kimi logits --random-config CONFIG --seed 0 --backend cuda --precision bf16 --weights bf16 \
        --input-ids ids.json --decode-steps 256 --row-stride 16 --out bf16.safetensors
    kimi logits ... --weights fp8 --out fp8.safetensors
    python3 compare_logits.py bf16.safetensors fp8.safetensors

Prints the prefill logits' relative error ||b - a|| / ||a|| over the positions both files hold,
top-1 agreement over those positions, and greedy agreement over the decode steps (the leading
tokens that match, and all that match; past the first difference the two continue different
texts, so only the leading count compares like with like).
"""
import sys

import torch
from safetensors.torch import load_file


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: compare_logits.py REFERENCE.safetensors OTHER.safetensors")
    a = load_file(sys.argv[1])
    b = load_file(sys.argv[2])
    ra = a.get("prefill_rows")
    rb = b.get("prefill_rows")
    if (ra is None) != (rb is None) or (ra is not None and not torch.equal(ra, rb)):
        sys.exit("the two files hold different prefill positions: record both with the same --row-stride")
    pa = a["prefill_logits"].double()
    pb = b["prefill_logits"].double()
    rel = ((pb - pa).norm() / pa.norm()).item()
    top1 = (pa.argmax(-1) == pb.argmax(-1)).double().mean().item()
    ga = a["generated_ids"].long()
    gb = b["generated_ids"].long()
    n = min(len(ga), len(gb))
    same = (ga[:n] == gb[:n]).tolist()
    lead = next((i for i, s in enumerate(same) if not s), n)
    print(f"{sys.argv[2]} against {sys.argv[1]}: {pa.shape[0]} positions: prefill logits rel err {rel:.3e}, "
          f"top-1 agreement {100 * top1:.2f}%; greedy: first {lead} of {n} tokens match, {sum(same)} of {n} in all")


if __name__ == "__main__":
    main()
