"""Training on many workers: simulated in one process (every message counted), then on MPI.

- :mod:`~course.parallel.allreduce`: naive and ring all-reduce over K simulated workers, with
  every message and byte recorded (:class:`AllReduceTrace`).
- :mod:`~course.parallel.data_parallel`: synchronous data-parallel SGD (:func:`data_parallel_sgd`).
- :mod:`~course.parallel.server`: a :class:`ParameterServer`, asynchronous SGD with stale
  gradients (:func:`async_sgd`) and a staleness-aware learning rate.
- :mod:`~course.parallel.pipeline`: two-stage model parallelism and the pipeline timeline.
- :mod:`~course.parallel.spmd`: code written once for K ranks (mpi4py's interface), run on
  simulated ranks (:func:`run_ranks`) or, unchanged, on real processes.
- :mod:`~course.parallel.mpi`: ``mpiexec`` from Python, and the comparison with ``MPI.Allreduce``.
"""

from .allreduce import AllReduceTrace, Message, chunk_bounds, naive_allreduce, ring_allreduce
from .data_parallel import data_parallel_sgd, model_grad_fn
from .pipeline import bubble_fraction, pipeline_schedule, two_stage_backward, two_stage_forward
from .server import ParameterServer, async_sgd, stale_gradient_descent
from .spmd import RankError, SimComm, run_ranks

__all__ = [
    "Message",
    "AllReduceTrace",
    "chunk_bounds",
    "naive_allreduce",
    "ring_allreduce",
    "ParameterServer",
    "model_grad_fn",
    "data_parallel_sgd",
    "async_sgd",
    "stale_gradient_descent",
    "two_stage_forward",
    "two_stage_backward",
    "pipeline_schedule",
    "bubble_fraction",
    "SimComm",
    "RankError",
    "run_ranks",
]
