"""Times torch's SDPA (flash backend) at MLA prefill's expanded shapes, for a side-by-side run
with KernelBench's mla_prefill rows.

Causal attention, 32 heads, q/k 192 wide, v 128 wide, bf16. Rows: one call over T tokens for
T = 8192, 32768 and 131072 (the last is the whole-prompt figure that 16 chunks of 8192 against
the cache are held to). FLOPs are counted as KernelBench counts them: 2 * pairs * H * (192 + 128)
with pairs = T (T + 1) / 2. Prints the median milliseconds of triton's do_bench and TFLOP/s.
"""
import torch
import torch.nn.functional as F
import triton
from torch.nn.attention import SDPBackend, sdpa_kernel

HEADS, DQK, DV = 32, 192, 128


def main():
    print("device:", torch.cuda.get_device_name(), "torch", torch.__version__)
    for t in (8192, 32768, 131072):
        q = torch.randn(1, HEADS, t, DQK, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(1, HEADS, t, DQK, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(1, HEADS, t, DV, device="cuda", dtype=torch.bfloat16)
        flops = 2.0 * (t * (t + 1) / 2) * HEADS * (DQK + DV)
        for name, backend in (("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION),
                              ("default", None)):
            try:
                if backend is None:
                    fn = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)
                    ms = triton.testing.do_bench(fn, warmup=10, rep=200, return_mode="median")
                else:
                    with sdpa_kernel(backend):
                        fn = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)
                        fn()
                        ms = triton.testing.do_bench(fn, warmup=10, rep=200, return_mode="median")
            except RuntimeError as e:
                print(f"sdpa {name} T={t}: unavailable ({str(e).splitlines()[0]})", flush=True)
                continue
            print(f"sdpa {name} causal T={t} H={HEADS} qk={DQK} v={DV}: {ms:.3f} ms {flops / ms / 1e9:.1f} TFLOP/s",
                  flush=True)
        del q, k, v
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
