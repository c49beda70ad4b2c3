"""How much of the batch preparation does ``DataLoader(prefetch=...)`` hide behind training?

Each batch costs a *transform* (preparing the batch) and a *training step*. Without prefetch
an epoch takes about n * (t + s); with a background thread preparing batch i + 1 while batch
i trains, about n * max(t, s) (plus one t to start). Three kinds of work are measured:

- sleep:  both sides sleep (the ideal case: the GIL is free while sleeping);
- numpy:  both sides do NumPy matrix products, which release the GIL during the product;
- mlp:    a real course.model.MLP step on the digits with a NumPy noise-augmentation
          transform; much of an MLP step is Python that holds the GIL, so less overlaps.

Prints, for each, the epoch time without and with prefetch and their ratio (> 1: faster).

    python benchmarks/bench_dataloader.py [--batches 40] [--ms 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time

# One BLAS thread, so that any overlap comes from the prefetch thread and not from BLAS's own
# threads (set before NumPy is imported).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from course.data import DataLoader, load_digits  # noqa: E402
from course.model import MLP  # noqa: E402
from course.optim import SGD  # noqa: E402


def _sleep_work(ms):
    def transform(Xb, yb):
        time.sleep(ms / 1000)
        return Xb, yb

    def step(Xb, yb):
        time.sleep(ms / 1000)

    return transform, step


def _numpy_work(ms):
    """Enough 256 x 256 matrix products to take about ``ms`` milliseconds."""
    A = np.random.default_rng(0).standard_normal((256, 256))
    start = time.perf_counter()
    for _ in range(10):
        A @ A
    per_product = (time.perf_counter() - start) / 10
    reps = max(1, round(ms / 1000 / per_product))

    def work():
        for _ in range(reps):
            A @ A

    def transform(Xb, yb):
        work()
        return Xb, yb

    def step(Xb, yb):
        work()

    return transform, step


def _mlp_work():
    X, y = load_digits("train")
    model = MLP([64, 256, 256, 10], seed=0)
    opt = SGD(model.params, lr=0.01)
    rng = np.random.default_rng(0)

    def transform(Xb, yb):  # augmentation: noise, then clip to [0, 1]
        return np.clip(Xb + 0.05 * rng.standard_normal(Xb.shape), 0.0, 1.0), yb

    def step(Xb, yb):
        _, grads = model.loss(Xb, yb)
        opt.step(grads)

    return X, y, transform, step


def epoch_time(X, y, batch_size, transform, step, prefetch, repeat):
    best = float("inf")
    for _ in range(repeat):
        loader = DataLoader(X, y, batch_size, seed=0, transform=transform, prefetch=prefetch)
        start = time.perf_counter()
        for Xb, yb in loader:
            step(Xb, yb)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="batches per epoch")
    parser.add_argument("--ms", type=float, default=5.0, help="cost of transform and of step")
    parser.add_argument("--prefetch", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="epochs timed; the best is kept")
    args = parser.parse_args(argv)

    X = np.zeros((args.batches * 8, 4))
    y = np.zeros(args.batches * 8, dtype=np.int64)
    cases = [
        ("sleep", X, y, 8, *_sleep_work(args.ms)),
        ("numpy", X, y, 8, *_numpy_work(args.ms)),
    ]
    Xd, yd, t_mlp, s_mlp = _mlp_work()
    cases.append(("mlp", Xd, yd, 64, t_mlp, s_mlp))

    print(f"{'work':6} {'batches':>7} {'no prefetch':>12} {'prefetch=' + str(args.prefetch):>12} "
          f"{'ratio':>6}")
    for name, Xc, yc, bs, transform, step in cases:
        base = epoch_time(Xc, yc, bs, transform, step, 0, args.repeat)
        fast = epoch_time(Xc, yc, bs, transform, step, args.prefetch, args.repeat)
        n = -(-len(yc) // bs)
        print(f"{name:6} {n:7d} {base * 1000:10.1f}ms {fast * 1000:10.1f}ms {base / fast:6.2f}x")


if __name__ == "__main__":
    main()
