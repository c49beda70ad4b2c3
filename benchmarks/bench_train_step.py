"""Time one training step of the reference MLP against PyTorch (CPU) and the raw matmul rate.

    python benchmarks/bench_train_step.py            # full run (a few minutes on 2 cores)
    python benchmarks/bench_train_step.py --quick    # fewer repeats, for a smoke test

A training step is: forward, softmax cross-entropy, backward, Adam update
(``course.model.MLP`` + ``course.optim.Adam``; ``torch.nn.Sequential`` of Linear/ReLU +
``torch.optim.Adam``), at two sizes:

    small: 784-128-10,            batch 64
    large: 784-1024-1024-10,      batch 512

in float32 and float64. Each framework runs in its own process (the spinning thread pools of
OpenBLAS and PyTorch's OpenMP would slow each other down in one process); the processes of the two
frameworks alternate over --rounds rounds, so that a busy machine slows both alike. A time is the
median over the timed steps of a run (after 3 warm-up steps), then the median over rounds; the
matmul-only time is interleaved with the reference steps in the same process. Targets (from the issue): ref/torch <= 1.0 at both sizes, >= 80% of the matmul rate
at the large size, and no more peak memory than PyTorch.

Matmul rate. The step's matrix products are timed alone, with the same shapes and layouts: per
layer, the forward h @ W, dW = h.T @ dz, and dh = dz @ W.T except for the first layer (the input
needs no gradient; PyTorch skips it too). rate = FLOPs / time, FLOPs = 2 * N * D * M per product.
The step's achieved rate is the same FLOPs over the whole step's time, so "fraction of the matmul
rate" = matmul-only time / step time: the share of the step spent in the products that cannot be
avoided.

Threads: PyTorch gets ``torch.set_num_threads(n)`` with n the OpenBLAS thread count that NumPy
uses (both default to all cores); override with --threads (sets both when the OpenBLAS library can
be reached, see ``blas_threads``).

Peak memory. Each (framework, size, dtype) runs in a fresh Python process that builds the data,
the model and the optimizer and takes 3 steps. Reported: the growth of the process's peak
resident memory from just before the model is built to the end (Linux: VmHWM after resetting it
through /proc/self/clear_refs; elsewhere ru_maxrss), the same method for both frameworks; it
includes parameters, gradients, Adam's two buffers per parameter, activations and temporaries.
For the reference the exact peak of NumPy's own allocations (tracemalloc, traced from the same
point) is printed as well.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

CONFIGS = {"small": ([784, 128, 10], 64), "large": ([784, 1024, 1024, 10], 512)}
DTYPES = ("float32", "float64")
LR = 1e-3


# ---------------------------------------------------------------------------------------- threads


def _openblas():
    """NumPy's OpenBLAS library (ctypes handle) and its symbol prefix, or (None, None)."""
    here = os.path.dirname(np.__file__)
    for path in glob.glob(os.path.join(here, "..", "numpy.libs", "*openblas*")) + glob.glob(
        os.path.join(here, ".dylibs", "*openblas*")
    ):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                    "openblas_get_num_threads"):
            if hasattr(lib, get):
                return lib, get
    return None, None


def blas_threads(set_to: int | None = None) -> int | None:
    """The OpenBLAS thread count NumPy uses (after setting it to ``set_to`` if given)."""
    lib, get = _openblas()
    if lib is None:
        return None
    if set_to is not None:
        setter = getattr(lib, get.replace("get_num_threads", "set_num_threads"), None)
        if setter is not None:
            setter(int(set_to))
    return int(getattr(lib, get)())


# ---------------------------------------------------------------------------------------- steps


def make_data(sizes, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], size=n)
    return x, y


def reference_step(sizes, n, dtype):
    """A closure doing one training step of the reference MLP, and its parts for the breakdown."""
    from course.model import MLP
    from course.optim import Adam

    model = MLP(sizes, dtype=dtype, seed=0)
    opt = Adam(model.params, lr=LR)
    x, y = make_data(sizes, n, dtype)

    def step():
        _, grads = model.loss(x, y)
        opt.step(grads)

    def forward_backward():
        model.loss(x, y)

    def update():
        opt.step(model.grads)

    return step, forward_backward, update


def torch_step(sizes, n, dtype):
    import torch

    torch.manual_seed(0)
    tdtype = getattr(torch, dtype)
    layers = []
    for d, m in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(d, m, dtype=tdtype), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    x, y = make_data(sizes, n, dtype)
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    def forward_backward():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()

    def step():
        forward_backward()
        opt.step()

    return step, forward_backward, opt.step


def matmul_products(sizes, n, dtype):
    """The step's matrix products alone (same shapes and layouts) and their FLOP count."""
    rng = np.random.default_rng(1)
    hs = [rng.standard_normal((n, s)).astype(dtype) for s in sizes]  # layer inputs / outputs
    Ws = [rng.standard_normal((d, m)).astype(dtype) for d, m in zip(sizes[:-1], sizes[1:])]
    flops = 0
    for layer, (d, m) in enumerate(zip(sizes[:-1], sizes[1:])):
        flops += 2 * n * d * m * (2 if layer == 0 else 3)

    def products():
        for layer, W in enumerate(Ws):
            hs[layer] @ W  # forward
        for layer in range(len(Ws) - 1, -1, -1):
            hs[layer].T @ hs[layer + 1]  # dW
            if layer > 0:
                hs[layer + 1] @ Ws[layer].T  # dh

    return products, flops


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(fns, repeats, warmup=3):
    """Median seconds of each function, calls interleaved round-robin."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(timed(fn))
    return {name: statistics.median(ts) for name, ts in times.items()}


# ---------------------------------------------------------------------------------------- memory


def _status_kib(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _peak_kib():
    peak = _status_kib("VmHWM")
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = peak // 1024 if sys.platform == "darwin" else peak
    return peak


def _reset_peak():
    """Reset the peak RSS to the current RSS (Linux >= 4.0); False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------- child


def child(framework, size, dtype, repeats, threads):
    """Runs in its own process: peak memory of building the model and 3 steps, then timings.

    One framework per process: the thread pools of OpenBLAS and PyTorch's OpenMP keep spinning
    for a while after each call and would slow each other down in a shared process.
    """
    sizes, n = CONFIGS[size]
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        torch.ones(64, 64) @ torch.ones(64, 64)  # start the thread pool before the baseline
        make = torch_step
    else:
        import tracemalloc

        import course.model  # noqa: F401  (imported before the baseline)
        import course.optim  # noqa: F401

        np.ones((64, 64)) @ np.ones((64, 64))
        make = reference_step
        tracemalloc.start()
    reset = _reset_peak()
    base = _status_kib("VmRSS") if reset else _peak_kib()
    step, forward_backward, update = make(sizes, n, dtype)
    for _ in range(3):
        step()
    result = {"rss_mib": (_peak_kib() - base) / 1024}
    if framework == "ref":
        result["traced_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        products, result["flops"] = matmul_products(sizes, n, dtype)
        fns = {"step": step, "matmul": products}
    else:
        fns = {"step": step}
    result.update(measure(fns, repeats))
    result.update(measure({"fb": forward_backward, "update": update}, max(3, repeats // 2)))
    print(json.dumps(result))


def run_child(framework, size, dtype, repeats, threads):
    cmd = [sys.executable, os.path.abspath(__file__), "--_child", framework, size, dtype,
           str(repeats), "--threads", str(threads)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child {framework} {size} {dtype} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round, few repeats (smoke test)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="alternating runs of each framework (default 3; the median is kept)")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per run")
    parser.add_argument("--threads", type=int, default=None, help="threads for BLAS and PyTorch")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--_child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    threads = blas_threads(args.threads) or args.threads or os.cpu_count()
    if args._child:
        framework, size, dtype, repeats = args._child
        child(framework, size, dtype, int(repeats), threads)
        return

    have_torch = False
    if not args.no_torch:
        try:
            import torch

            have_torch = True
        except ImportError:
            pass
    rounds = args.rounds or (1 if args.quick else 3)
    print(f"python {platform.python_version()}, numpy {np.__version__}"
          + (f", torch {torch.__version__}" if have_torch else ", torch not installed")
          + f"; {os.cpu_count()} CPUs; {threads} threads for NumPy's BLAS"
          + (" and for torch" if have_torch else "") + f"; median of {rounds} round(s)")
    frameworks = ("ref", "torch") if have_torch else ("ref",)
    rows = []
    for size in CONFIGS:
        for dtype in DTYPES:
            repeats = args.repeats or (5 if args.quick else (20 if size == "large" else 200))
            runs = {fw: [] for fw in frameworks}
            for _ in range(rounds):
                for fw in frameworks:  # alternate, so that a busy machine slows both alike
                    runs[fw].append(run_child(fw, size, dtype, repeats, threads))
            row = {"size": size, "dtype": dtype}
            for fw, results in runs.items():
                row[fw] = {key: statistics.median(r[key] for r in results) for key in results[0]}
            rows.append(row)
            print(f"  measured {size} {dtype}", flush=True)
    report(rows)


def report(rows):
    print()
    head = (f"{'size':<6} {'dtype':<8} {'ref ms':>8} {'torch ms':>9} {'ref/torch':>9} "
            f"{'GFLOP/s':>8} {'matmul GFLOP/s':>14} {'of matmul':>9} "
            f"{'ref MiB':>8} {'torch MiB':>9} {'traced MiB':>10}")
    print(head)
    print("-" * len(head))
    for row in rows:
        ref, tch = row["ref"], row.get("torch")
        rate, mm_rate = ref["flops"] / ref["step"] / 1e9, ref["flops"] / ref["matmul"] / 1e9
        torch_ms = f"{1e3 * tch['step']:9.2f}" if tch else f"{'-':>9}"
        ratio = f"{ref['step'] / tch['step']:9.2f}" if tch else f"{'-':>9}"
        torch_mib = f"{tch['rss_mib']:9.1f}" if tch else f"{'-':>9}"
        print(f"{row['size']:<6} {row['dtype']:<8} {1e3 * ref['step']:8.2f} {torch_ms} {ratio} "
              f"{rate:8.1f} {mm_rate:14.1f} {rate / mm_rate:9.0%} "
              f"{ref['rss_mib']:8.1f} {torch_mib} {ref['traced_mib']:10.1f}")
    print()
    print("breakdown (ms): forward + backward | optimizer update")
    for row in rows:
        ref, tch = row["ref"], row.get("torch")
        line = (f"  {row['size']:<6} {row['dtype']:<8} ref {1e3 * ref['fb']:8.2f} | "
                f"{1e3 * ref['update']:7.2f}")
        if tch:
            line += f"    torch {1e3 * tch['fb']:8.2f} | {1e3 * tch['update']:7.2f}"
        print(line)
    print()
    print("targets: ref/torch <= 1.0 at both sizes; >= 80% of the matmul rate at the large size; "
          "ref MiB <= torch MiB")
    print("MiB: growth of peak resident memory over building the model and 3 steps (same method "
          "for both); traced: peak of NumPy's own allocations (tracemalloc)")


if __name__ == "__main__":
    main()
