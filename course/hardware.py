"""Arithmetic intensity, the roofline, and quick measurements of this machine.

A kernel that does F floating-point operations and moves B bytes to and from memory has an
**arithmetic intensity** I = F / B (FLOP per byte). A machine with peak rate P (FLOP/s) and
memory bandwidth W (bytes/s) runs it at most at

    attainable(I) = min(P, I * W)            (the roofline; Williams, Waterman and Patterson, 2009)

Below the *ridge point* I = P / W the kernel is **memory-bound** (faster memory would help,
more FLOP/s would not); above it, **compute-bound**.

- :func:`linear_intensity`, :func:`elementwise_intensity`, :func:`mlp_layers`: F, B and I of the
  layers of an MLP;
- :func:`roofline`, :func:`ridge_point`;
- :func:`measure_matmul_rate`, :func:`measure_bandwidth`: this machine's P and W, in well under
  a second each;
- :data:`RECORDED`: a GPU's figures from its vendor's data sheet, shown where no GPU is present.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = [
    "linear_intensity",
    "elementwise_intensity",
    "mlp_layers",
    "roofline",
    "ridge_point",
    "measure_matmul_rate",
    "measure_bandwidth",
    "update_traffic",
    "RECORDED",
]

#: NVIDIA H100 SXM5, from NVIDIA's data sheet (dense, no sparsity); not measured by the course.
RECORDED = {
    "device": "NVIDIA H100 SXM5 (vendor data sheet, not measured here)",
    "flops": {"float64": 67e12, "float32": 67e12, "tf32 (tensor cores)": 495e12,
              "bfloat16/float16 (tensor cores)": 989e12},
    "bandwidth": 3.35e12,  # HBM3, bytes/s
}


def _count(name, v, fn):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{fn}: {name} must be an int >= 1, got {v!r}")
    return int(v)


def linear_intensity(N, D, M, itemsize=4, bias=True):
    """FLOPs, bytes and intensity of a linear layer's forward, out = x W + b.

    - N: batch size; D: inputs; M: outputs; itemsize: bytes per number (4 for float32).

    FLOPs: 2 N D M (a multiply and an add per term of every dot product) plus N M for the bias.
    Bytes: read x (N D), W (D M) and b (M), write out (N M), each once, times ``itemsize``.

    Returns ``(flops, bytes, intensity)``: two integers and flops / bytes in FLOP per byte.
    """
    fn = "linear_intensity"
    N, D, M = (_count(n, v, fn) for n, v in (("N", N), ("D", D), ("M", M)))
    itemsize = _count("itemsize", itemsize, fn)
    flops = 2 * N * D * M + (N * M if bias else 0)
    nbytes = itemsize * (N * D + D * M + N * M + (M if bias else 0))
    return np.int64(flops), np.int64(nbytes), flops / nbytes


def elementwise_intensity(size, flops_per_element=1, itemsize=4):
    """An element-wise layer (ReLU: one comparison per entry): reads and writes ``size`` numbers.

    Returns ``(flops, bytes, intensity)``; intensity = flops_per_element / (2 * itemsize).
    """
    size = _count("size", size, "elementwise_intensity")
    flops, nbytes = flops_per_element * size, 2 * itemsize * size
    return float(flops), float(nbytes), flops / nbytes


def mlp_layers(sizes, batch, itemsize=4):
    """The forward layers of an MLP ``sizes = [D, H1, ..., C]`` with ReLU between: a list of
    ``(name, flops, bytes, intensity)``."""
    out = []
    for i, (d, m) in enumerate(zip(sizes[:-1], sizes[1:])):
        out.append((f"linear {d}->{m}", *linear_intensity(batch, d, m, itemsize)))
        if i < len(sizes) - 2:
            out.append((f"relu {m}", *elementwise_intensity(batch * m, 1, itemsize)))
    return out


def ridge_point(peak_flops, bandwidth):
    """The intensity at which the roofline turns flat: peak_flops / bandwidth (FLOP per byte)."""
    return peak_flops / bandwidth


def roofline(intensity, peak_flops, bandwidth):
    """The attainable FLOP/s at ``intensity`` (array or number): min(peak, intensity * bandwidth)."""
    return np.minimum(peak_flops, np.asarray(intensity, dtype=np.float64) * bandwidth)


def _best_time(fn, repeat):
    fn()  # warm up (allocations, thread pools)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_matmul_rate(n=512, dtype=np.float32, repeat=5, xp=np):
    """This machine's matrix-multiply rate in FLOP/s: the best of ``repeat`` n x n products
    (2 n^3 FLOPs each). ``xp=cupy`` measures the GPU (synchronising after each product)."""
    a = xp.asarray(np.random.default_rng(0).standard_normal((n, n)), dtype=dtype)
    b = xp.asarray(np.random.default_rng(1).standard_normal((n, n)), dtype=dtype)
    sync = _synchronize(xp)

    def run():
        a @ b
        sync()

    return 2.0 * n**3 / _best_time(run, repeat)


def measure_bandwidth(megabytes=64, repeat=5, xp=np):
    """This machine's memory bandwidth in bytes/s: the best of ``repeat`` copies of a float32
    array of ``megabytes`` MB into another (each copy reads and writes it: 2 * size bytes).
    Use an array much larger than the caches (tens of MB) to measure main memory."""
    n = int(megabytes * 1e6 // 4)
    src, dst = xp.ones(n, dtype=xp.float32), xp.zeros(n, dtype=xp.float32)
    sync = _synchronize(xp)

    def run():
        dst[...] = src
        sync()

    return 2.0 * 4 * n / _best_time(run, repeat)


def _synchronize(xp):
    if xp is np:
        return lambda: None
    return xp.cuda.Device().synchronize


def update_traffic(n_params, itemsize=4, fused=True):
    """Bytes an SGD-with-momentum update moves for ``n_params`` parameters.

    Unfused (one NumPy operation at a time, ``b = mu * b + g; w -= lr * b`` as 4 passes with
    temporaries): every pass reads its inputs and writes its output, 10 arrays' worth.
    Fused (one kernel): read w, g, b once and write w, b once, 5 arrays' worth.
    """
    return float((5 if fused else 10) * n_params * itemsize)
