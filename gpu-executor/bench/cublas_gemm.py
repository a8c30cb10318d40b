"""Times cuBLAS (through torch) at KernelBench's GEMM shapes, for a side-by-side run.

bf16 operands, a [M, K] @ b[N, K]^T with bf16 output (fp32 accumulation), as our gemm rows take
them; then the e4m3 peer of our fp8 rows: torch._scaled_mm with one scale per row of a and per
row of b (our per-token activation and per-channel weight scales), bf16 output. Prints one line
per shape: the median milliseconds of triton's do_bench and TFLOP/s.
"""
import torch
import triton

SHAPES = [(16384, 4096, 2304), (8192, 12320, 2304), (8192, 2048, 2304), (8192, 8192, 8192)]


def main():
    print("device:", torch.cuda.get_device_name(), "torch", torch.__version__)
    for m, n, k in SHAPES:
        a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
        ms = triton.testing.do_bench(lambda: a @ b.T, warmup=50, rep=300, return_mode="median")
        print(f"cublas gemm {m}x{n}x{k}: {ms:.3f} ms {2.0 * m * n * k / ms / 1e9:.0f} TFLOP/s", flush=True)
        a8 = a.to(torch.float8_e4m3fn)
        b8 = b.to(torch.float8_e4m3fn)
        sa = torch.rand(m, 1, device="cuda", dtype=torch.float32) + 0.5
        sb = torch.rand(1, n, device="cuda", dtype=torch.float32) + 0.5
        try:
            ms = triton.testing.do_bench(lambda: torch._scaled_mm(a8, b8.T, scale_a=sa, scale_b=sb,
                                                                  out_dtype=torch.bfloat16),
                                         warmup=50, rep=300, return_mode="median")
            print(f"torch _scaled_mm e4m3 rowwise {m}x{n}x{k}: {ms:.3f} ms {2.0 * m * n * k / ms / 1e9:.0f} TFLOP/s",
                  flush=True)
        except RuntimeError as e:   # rowwise scales need sm_90 and a recent torch
            print(f"torch _scaled_mm e4m3 rowwise {m}x{n}x{k}: not run ({str(e).splitlines()[0]})", flush=True)


if __name__ == "__main__":
    main()
