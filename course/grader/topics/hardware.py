"""Hardware (lesson 14): the arithmetic intensity of a linear layer."""

from __future__ import annotations

from ...hardware import linear_intensity
from ..cases import Case
from ..registry import Knob, Variant, register

LESSON = "14_hardware"


def _cases(rng):
    out = []
    for N, D, M, itemsize, bias in [(64, 784, 256, 4, True), (1, 512, 512, 2, True), (4096, 128, 10, 4, False),
                                    (32, 3, 1000, 8, True)]:
        N = int(N + rng.integers(0, 3))
        out.append(Case((N, D, M, itemsize, bias), note=f"N = {N}, D = {D}, M = {M}, itemsize {itemsize}"
                        + ("" if bias else ", no bias")))
    return out


def _no_factor_2(N, D, M, itemsize=4, bias=True):
    f, b, _ = linear_intensity(N, D, M, itemsize, bias)
    f -= N * D * M
    return f, b, f / b


def _elements(N, D, M, itemsize=4, bias=True):
    f, b, _ = linear_intensity(N, D, M, itemsize, bias)
    return f, b / itemsize, f / (b / itemsize)


def _no_output(N, D, M, itemsize=4, bias=True):
    f, b, _ = linear_intensity(N, D, M, itemsize, bias)
    b -= itemsize * N * M
    return f, b, f / b


def _weights_only(N, D, M, itemsize=4, bias=True):
    f, _, _ = linear_intensity(N, D, M, itemsize, bias)
    b = float(itemsize * (D * M + (M if bias else 0)))
    return f, b, f / b


def _intensity_model(N, D, M, itemsize=4, bias=True, bias_flops=True, bias_bytes=True):
    """The linear layer's counts with the bias's two contributions as switches."""
    flops = 2 * N * D * M + (N * M if bias and bias_flops else 0)
    nbytes = itemsize * (N * D + D * M + N * M + (M if bias and bias_bytes else 0))
    return flops, nbytes, flops / nbytes


register(
    "hardware.linear_intensity",
    lesson=LESSON,
    title="Arithmetic intensity of a linear layer",
    reference=linear_intensity,
    cases=_cases,
    outputs=("flops", "bytes", "intensity"),
    arg_names=("N", "D", "M", "itemsize", "bias"),
    model=_intensity_model,
    knobs=(
        Knob("bias_bytes", (False,), "Your bytes leave out the bias: b (M numbers) is read from memory too, "
             "so with a bias add M * itemsize bytes."),
        Knob("bias_flops", (False,), "Your FLOPs leave out the bias: adding b to every output costs N * M "
             "additions more."),
    ),
    variants=(
        Variant("no_factor_2", _no_factor_2,
                "Each term of a dot product is a multiply AND an add: the matrix product costs 2 N D M FLOPs."),
        Variant("bytes_as_elements", _elements,
                "You counted numbers, not bytes: multiply by itemsize (4 for float32, 2 for float16)."),
        Variant("output_not_counted", _no_output,
                "The output (N, M) is written to memory too: add N * M * itemsize bytes."),
        Variant("weights_only", _weights_only,
                "You counted only the weights' bytes; the input x (N, D) is read and the output (N, M) written too."),
    ),
    hints=(
        "flops = 2 N D M (+ N M for the bias); bytes = itemsize * (N D + D M + N M (+ M for the bias)); "
        "return (flops, bytes, flops / bytes).",
    ),
)
