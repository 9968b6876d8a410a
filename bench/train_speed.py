"""Training speed: deeplook's engine vs the notebook's float64 loop vs PyTorch CPU eager, per preset.

Every contender trains the same network from the same initial weights on the same MNIST data with the
same optimizer and batch size. After one warm-up epoch each, epochs run interleaved (A B C A B C ...)
so that a noisy, shared machine slows every contender alike; ratios are taken per round and reported
as medians. The engine's epoch time is ``EpochMetrics.seconds`` of a ``Trainer`` (evaluation excluded).

Run from the repository root: ``python bench/train_speed.py [--presets ...] [--repeats N] [--long]``.
PyTorch is optional: without it (or with ``--no-torch``) its columns are left out.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from deeplook.engine.config import PRESETS, TrainConfig
from deeplook.engine.data import Dataset, load_dataset
from deeplook.engine.model import init_weights
from deeplook.engine.train import EpochMetrics, Trainer

Array = np.ndarray
EpochRunner = Callable[[], float]
"""Trains one more epoch and returns its training time in seconds."""

# Ratios (engine speed over a contender's) the issue asks for; benchmark targets, not tests.
TARGETS: dict[tuple[str, str], float] = {
    ("notebook-sgd", "notebook loop"): 2.0,
    ("notebook-sgd", "torch"): 1.3,
    ("notebook-adam", "torch"): 1.5,
    ("relu-adam", "torch"): 1.0,
}
MAX_SLOWDOWN = 1.2  # a long run's late epochs may take at most this times a first epoch
SGEMM_SIZE = 2048
NOTES = """

Speedups are medians over rounds of the paired ratio (contender's epoch time / engine's, same round).
All contenders use the preset's thread count (the engine's BLAS threads); "torch N threads" is torch's
default when that differs. GFLOP/epoch counts the engine's matmuls (forward, dW, dx; no dx for the input
layer, which the notebook loop does compute); % sgemm peak compares the engine's rate with the float32
sgemm peak on the same thread count. Engine times are EpochMetrics.seconds (evaluation excluded)."""
LONG_NOTES = """

A shared machine makes single epochs noisy, so after each epoch a fresh run's first epoch is timed as a
reference: drift is the median, over the last three epochs, of epoch time over that reference (1.0 =
no slowdown). Subnormals counts float32 denormals left in the weights and optimizer state at the end:
they cost little on some CPUs (AMD Zen) and 10-100x on others, so any are flagged whatever the timing."""


def log(message: str) -> None:
    """Progress goes to stderr so that stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


# --- the contenders --------------------------------------------------------------------------------


def engine_runner(config: TrainConfig, data: Dataset, threads: int, epochs: int) -> EpochRunner:
    """deeplook's Trainer (it sets its own BLAS threads); each call runs it to the next ``EpochMetrics``."""
    events = Trainer(config.replace(epochs=epochs), data).run()

    def epoch() -> float:
        for event in events:
            if isinstance(event, EpochMetrics):
                return event.seconds
        raise RuntimeError("the engine's run ended before the benchmark did")

    return epoch


def learning_rate(config: TrainConfig, epoch: int) -> float:
    """The engine's schedule: ``lr * lr_decay ** (epoch - 1)`` for the 1-based ``epoch``."""
    return config.optimizer.lr * config.optimizer.lr_decay ** (epoch - 1)


# The notebook's activations: the function, and its derivative from the function's output.
NOTEBOOK_ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "sigmoid": (lambda a: 1 / (1 + np.exp(-a)), lambda out: (1.0 - out) * out),
    "tanh": (np.tanh, lambda out: 1.0 - out**2),
    "relu": (lambda a: np.maximum(0, a), lambda out: out > 0),
}


class NotebookNet:
    """The notebook's network: float64 arrays in a dict ``W1, b1, W2, b2, ...``, backprop by hand."""

    def __init__(self, arrays: list[Array], activation: str) -> None:
        self.depth = len(arrays) // 2
        self.activation, self.derivative = NOTEBOOK_ACTIVATIONS[activation]
        self.params: dict[str, Array] = {}
        for i in range(self.depth):
            self.params[f"W{i + 1}"] = arrays[2 * i].astype(np.float64)
            self.params[f"b{i + 1}"] = arrays[2 * i + 1].astype(np.float64)

    def gradient(self, x: Array, t: Array) -> tuple[float, dict[str, Array]]:
        """Loss and gradients for a batch ``x`` with one-hot labels ``t``."""
        params, inputs, hidden = self.params, [], []
        h = x
        for i in range(1, self.depth + 1):
            inputs.append(h)
            a = np.dot(h, params[f"W{i}"]) + params[f"b{i}"]
            if i < self.depth:
                h = self.activation(a)
                hidden.append(h)
        shifted = a - a.max(axis=1, keepdims=True)
        y = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -float(np.sum(t * np.log(y + 1e-7))) / len(x)
        dout = (y - t) / len(x)
        grads: dict[str, Array] = {}
        for i in range(self.depth, 0, -1):
            grads[f"W{i}"] = np.dot(inputs[i - 1].T, dout)
            grads[f"b{i}"] = np.sum(dout, axis=0)
            dout = np.dot(dout, params[f"W{i}"].T)  # the notebook's Affine computes dx for every layer
            if i > 1:
                dout = dout * self.derivative(hidden[i - 2])
        return loss, grads


class NotebookSGD:
    """``params[key] -= lr * grads[key]`` for every key (with momentum: ``v = mu v - lr g; w += v``)."""

    def __init__(self, params: dict[str, Array], lr: float, momentum: float) -> None:
        self.params, self.lr, self.momentum = params, lr, momentum
        self.v = {key: np.zeros_like(value) for key, value in params.items()} if momentum else {}

    def update(self, grads: dict[str, Array]) -> None:
        for key in self.params:
            if self.momentum:
                self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
                self.params[key] += self.v[key]
            else:
                self.params[key] -= self.lr * grads[key]


class NotebookAdam:
    """Adam over the dict, in the form of Keras and "Deep Learning from Scratch"."""

    def __init__(self, params: dict[str, Array], lr: float, beta1: float, beta2: float, eps: float) -> None:
        self.params, self.lr, self.beta1, self.beta2, self.eps = params, lr, beta1, beta2, eps
        self.m = {key: np.zeros_like(value) for key, value in params.items()}
        self.v = {key: np.zeros_like(value) for key, value in params.items()}
        self.iter = 0

    def update(self, grads: dict[str, Array]) -> None:
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in self.params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            self.params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + self.eps)


def notebook_runner(config: TrainConfig, data: Dataset, threads: int, epochs: int) -> EpochRunner:
    """The notebook's loop; the data is scaled to float64 and one-hot encoded up front, as it does."""
    rng = np.random.default_rng(config.seed)
    net = NotebookNet(init_weights(config.model, config.seed), config.model.activation)
    opt = config.optimizer
    optimizer: NotebookSGD | NotebookAdam = (
        NotebookAdam(net.params, opt.lr, opt.beta1, opt.beta2, opt.eps)
        if opt.name == "adam"
        else NotebookSGD(net.params, opt.lr, opt.momentum)
    )
    epochs_done = itertools.count(1)
    x_train = data.train_images / 255.0
    t_train = np.eye(config.model.classes)[data.train_labels]
    batch = config.batch_size

    def epoch() -> float:
        optimizer.lr = learning_rate(config, next(epochs_done))
        with threadpool_limits(limits=threads, user_api="blas"):
            order = rng.permutation(len(x_train))
            started = time.perf_counter()
            for start in range(0, len(order), batch):
                index = order[start : start + batch]
                _, grads = net.gradient(x_train[index], t_train[index])
                optimizer.update(grads)
            return time.perf_counter() - started

    return epoch


def torch_runner(config: TrainConfig, data: Dataset, threads: int, epochs: int) -> EpochRunner:
    """The same net in PyTorch eager mode, float32, ``torch.set_num_threads(threads)``."""
    import torch

    rng = np.random.default_rng(config.seed)
    arrays = init_weights(config.model, config.seed)
    activation = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[
        config.model.activation
    ]
    modules: list[Any] = []
    for i in range(len(arrays) // 2):
        linear = torch.nn.Linear(*arrays[2 * i].shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(arrays[2 * i].T.copy()))
            linear.bias.copy_(torch.from_numpy(arrays[2 * i + 1]))
        modules += [linear, activation()]
    model: Any = torch.nn.Sequential(*modules[:-1])
    opt = config.optimizer
    optimizer = (
        torch.optim.Adam(model.parameters(), lr=opt.lr, betas=(opt.beta1, opt.beta2), eps=opt.eps)
        if opt.name == "adam"
        else torch.optim.SGD(model.parameters(), lr=opt.lr, momentum=opt.momentum)
    )
    epochs_done = itertools.count(1)
    x_train = torch.from_numpy(data.train_images / np.float32(255.0))  # float32, writable
    y_train = torch.from_numpy(data.train_labels.astype(np.int64))
    batch = config.batch_size

    def epoch() -> float:
        lr = learning_rate(config, next(epochs_done))
        for group in optimizer.param_groups:
            group["lr"] = lr
        torch.set_num_threads(threads)
        order = torch.from_numpy(rng.permutation(len(y_train)))
        started = time.perf_counter()
        for start in range(0, len(order), batch):
            index = order[start : start + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(x_train[index]), y_train[index])
            loss.backward()
            optimizer.step()
        return time.perf_counter() - started

    return epoch


@dataclass(frozen=True)
class Contender:
    """A named way to train on ``threads`` BLAS (or torch) threads."""

    name: str
    threads: int
    make: Callable[[TrainConfig, Dataset, int, int], EpochRunner]  # (config, data, threads, epochs)


def contenders(config: TrainConfig, use_torch: bool) -> list[Contender]:
    """The engine, then the others on the engine's BLAS threads (and torch on its default, if different)."""
    threads = config.blas_threads
    chosen = [
        Contender("engine", threads, engine_runner),
        Contender("notebook loop", threads, notebook_runner),
    ]
    if use_torch:
        for count in dict.fromkeys([threads, torch_default_threads()]):
            name = "torch" if count == threads else f"torch {count} threads"
            chosen.append(Contender(name, count, torch_runner))
    return chosen


@functools.cache
def torch_default_threads() -> int:
    """Torch's own thread count, read before any ``set_num_threads``."""
    import torch

    return int(torch.get_num_threads())


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# --- measuring -------------------------------------------------------------------------------------


def matmul_flops(config: TrainConfig, samples: int) -> int:
    """Matmul FLOPs of an epoch: forward, dW and dx (2nm each per sample), without the input layer's dx."""
    sizes = config.model.sizes
    per_sample = sum(6 * n * m for n, m in itertools.pairwise(sizes)) - 2 * sizes[0] * sizes[1]
    return per_sample * samples


def sgemm_gflops(threads: int, size: int = SGEMM_SIZE, repeats: int = 5) -> float:
    """Best float32 ``size``-square matmul rate on ``threads`` BLAS threads."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    out = np.empty_like(a)
    best = float("inf")
    with threadpool_limits(limits=threads, user_api="blas"):
        np.matmul(a, b, out=out)
        for _ in range(repeats):
            started = time.perf_counter()
            np.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def interleave(preset: str, data: Dataset, repeats: int, use_torch: bool) -> dict[str, list[float]]:
    """Epoch seconds per contender: one warm-up epoch each, then ``repeats`` interleaved rounds."""
    config = PRESETS[preset].config
    chosen = contenders(config, use_torch)
    runners = [c.make(config, data, c.threads, repeats + 1) for c in chosen]
    for contender, runner in zip(chosen, runners, strict=True):
        log(f"{preset}: warm-up {contender.name}: {runner():.3f} s")
    seconds: dict[str, list[float]] = {c.name: [] for c in chosen}
    for round_ in range(repeats):
        for contender, runner in zip(chosen, runners, strict=True):
            seconds[contender.name].append(runner())
        log(f"{preset}: round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in seconds.items()))
    return seconds


@dataclass(frozen=True)
class LongRun:
    """Epoch seconds of one engine run; a fresh run's first epoch timed right after each (the noise
    reference); and the float32 subnormals left in the run's weights and optimizer state."""

    seconds: list[float]
    fresh: list[float]
    subnormals: int

    def drift(self, last: int = 3) -> float:
        """Median over the last epochs of epoch time over the fresh first epoch timed next to it."""
        return statistics.median(s / f for s, f in zip(self.seconds[-last:], self.fresh[-last:], strict=True))


def long_run(preset: str, data: Dataset, epochs: int) -> LongRun:
    """Time every epoch of one ``epochs``-epoch engine run, each paired with a fresh run's first epoch."""
    config = PRESETS[preset].config
    trainer = Trainer(config.replace(epochs=epochs), data)
    seconds, fresh = [], []
    for event in trainer.run():
        if isinstance(event, EpochMetrics):
            seconds.append(event.seconds)
            fresh.append(engine_runner(config, data, config.blas_threads, 1)())
            log(f"{preset}: long run epoch {event.epoch}: {seconds[-1]:.3f} s, fresh run {fresh[-1]:.3f} s")
    arrays = [*trainer.model.arrays(), *trainer.optimizer.state_dict().values()]
    return LongRun(seconds, fresh, sum(count_subnormals(a) for a in arrays))


def count_subnormals(array: Array) -> int:
    if not np.issubdtype(array.dtype, np.floating):
        return 0
    return int(np.count_nonzero((array != 0) & (np.abs(array) < np.finfo(array.dtype).tiny)))


# --- reporting -------------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def median_best(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.3f} ({min(seconds):.3f})"


def paired_ratio(seconds: dict[str, list[float]], other: str) -> float:
    """Median over rounds of other's epoch time over the engine's: > 1 means the engine is faster."""
    return statistics.median(o / e for o, e in zip(seconds[other], seconds["engine"], strict=True))


def speed_report(results: dict[str, dict[str, list[float]]], samples: int, peaks: dict[int, float]) -> str:
    """One row per preset; times as "median (best)" seconds."""
    names = list(dict.fromkeys(name for seconds in results.values() for name in seconds if name != "engine"))
    header = ["preset", "threads", "GFLOP/epoch", "engine s", "engine samples/s", "engine GFLOP/s"]
    header += ["% sgemm peak", *(f"{n} s" for n in names), *(f"speedup vs {n}" for n in names)]
    rows = []
    for preset, seconds in results.items():
        config = PRESETS[preset].config
        flops = matmul_flops(config, samples)
        engine = statistics.median(seconds["engine"])
        rate = flops / engine / 1e9
        row = [
            preset,
            str(config.blas_threads),
            f"{flops / 1e9:.2f}",
            median_best(seconds["engine"]),
            f"{samples / engine:,.0f}",
        ]
        row += [f"{rate:.1f}", f"{100 * rate / peaks[config.blas_threads]:.0f}%"]
        row += [median_best(seconds[n]) if n in seconds else "-" for n in names]
        row += [f"{paired_ratio(seconds, n):.2f}x" if n in seconds else "-" for n in names]
        rows.append(row)
    return table(header, rows)


def target_report(results: dict[str, dict[str, list[float]]]) -> str:
    rows = []
    for (preset, other), wanted in TARGETS.items():
        if preset in results and other in results[preset]:
            ratio = paired_ratio(results[preset], other)
            verdict = "met" if ratio >= wanted else "MISSED"
            rows.append([preset, f"engine vs {other}", f">= {wanted}x", f"{ratio:.2f}x", verdict])
    if not rows:
        return "No targeted comparison was measured (they need the preset and its contender)."
    return table(["preset", "comparison", "target", "measured", "verdict"], rows)


def long_report(runs: dict[str, LongRun]) -> str:
    rows = []
    for preset, run in runs.items():
        verdict = "SLOWDOWN" if run.drift() > MAX_SLOWDOWN else "SUBNORMALS" if run.subnormals else "ok"
        epochs = " ".join(f"{s:.2f}" for s in run.seconds)
        ratio = run.seconds[-1] / run.seconds[0]
        rows.append([preset, epochs, f"{ratio:.2f}", f"{run.drift():.2f}", str(run.subnormals), verdict])
    header = ["preset", "epoch seconds", "last/first", "drift", "subnormals", "verdict"]
    return table(header, rows) + LONG_NOTES


def machine_report(peaks: dict[int, float], loads: tuple[float, float], use_torch: bool) -> str:
    """Cores, load, library versions and the float32 sgemm peak (best of a measure at start and end)."""
    blas = ", ".join(
        f"{info['internal_api']} {info['version']} ({info.get('architecture', '?')})"
        for info in threadpool_info()
        if info["user_api"] == "blas"
    )
    torch_version = "left out"
    if use_torch:
        import torch

        torch_version = f"{torch.__version__}, {torch_default_threads()} threads by default"
    peak_text = ", ".join(f"{g:.0f} GFLOP/s on {t} thread{'s' * (t > 1)}" for t, g in peaks.items())
    rows = [
        ["cores", str(os.cpu_count())],
        ["load average (1 min) at start, end", f"{loads[0]:.2f}, {loads[1]:.2f}"],
        ["numpy, BLAS", f"{np.__version__}, {blas}"],
        ["torch", torch_version],
        [f"float32 sgemm peak ({SGEMM_SIZE}-square matmul)", peak_text],
    ]
    note = ""
    if loads[0] > 0.5 or loads[1] > 1.5:  # the benchmark itself adds about 1 by its end
        note = (
            "\n\nOther work was running: expect noise, compare the best figures, or rerun on a quiet machine."
        )
    return table(["", ""], rows) + note


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", choices=list(PRESETS), default=list(PRESETS))
    parser.add_argument("--repeats", type=positive, default=5, help="timed epochs per contender (default 5)")
    parser.add_argument(
        "--long",
        type=positive,
        nargs="?",
        const=10,
        default=0,
        metavar="EPOCHS",
        help="also time every epoch of one engine run per preset (default 10 epochs)",
    )
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if importable")
    args = parser.parse_args(argv)

    use_torch = not args.no_torch and torch_available()
    if not use_torch:
        log("PyTorch left out: " + ("--no-torch" if args.no_torch else "not importable"))
    data = load_dataset("mnist")
    samples = len(data.train_labels)
    thread_counts = sorted({PRESETS[p].config.blas_threads for p in args.presets})
    load_before = os.getloadavg()[0]
    peaks = {t: sgemm_gflops(t) for t in thread_counts}
    results = {preset: interleave(preset, data, args.repeats, use_torch) for preset in args.presets}
    runs = {preset: long_run(preset, data, args.long) for preset in args.presets} if args.long else {}
    peaks = {t: max(peaks[t], sgemm_gflops(t)) for t in thread_counts}  # a busy machine lowers one of them
    load_after = os.getloadavg()[0]

    sections = [
        (
            f"Seconds per epoch: median (best) of {args.repeats} interleaved rounds after a warm-up",
            speed_report(results, samples, peaks) + NOTES,
        ),
        ("Targets", target_report(results)),
        ("Machine", machine_report(peaks, (load_before, load_after), use_torch)),
    ]
    if runs:
        sections.append((f"Engine epoch times over a {args.long}-epoch run", long_report(runs)))
    print("".join(f"\n### {title}\n\n{body}\n" for title, body in sections))


if __name__ == "__main__":
    main()
