"""Reliability: bad input, interruption, determinism, atomic writes and numerical guards.

- Bad input: library calls raise a specific GraphEigenError naming the problem; the CLI prints
  exactly one line on stderr and exits with code 2 (in-process for all cases, as a real
  subprocess for the important ones). Batch size 0 is full-graph mode (documented), so the
  invalid batch size tested is a negative one.
- Interruption: a `train` subprocess killed with SIGKILL resumes with `--resume` from its last
  checkpoint and ends with the embedding of an uninterrupted run, bit for bit.
- Determinism: the same seed gives a bitwise identical embedding on CPU, another seed does not.
- Atomic writes, non-finite losses, batches without kernel edges.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from graph_eigen.cli.main import main
from graph_eigen.config import TrainConfig
from graph_eigen.data import load_dataset
from graph_eigen.runs.checkpoint import CHECKPOINT, load_checkpoint, load_config, save_checkpoint
from graph_eigen.errors import (CheckpointError, ConfigError, DatasetNotFoundError, GraphEigenError,
                                TrainingDivergedError)
from graph_eigen.graph.core import Graph
from graph_eigen.io import save_npy
from graph_eigen.runs.recorder import train

SBM = "sbm:n=600,classes=3,avg_degree=10,features=8,seed=0"
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
# options shared by the small runs: 600 nodes, batches of 80 seeds -> 8 steps per epoch
SMALL = ["--objective", "neuralef", "--dim", "4", "--hidden", "8", "--batch-size", "80", "--fanouts", "5,3",
         "--no-progress"]


def small_config(**overrides) -> TrainConfig:
    options = dict(dataset=SBM, encoder="mlp", dim=4, hidden=8, epochs=1, batch_size=80,
                   fanouts=[5, 3], checkpoint_every=1000)
    options.update(overrides)
    return TrainConfig(**options)


def embedding_of(cfg: TrainConfig, graph: Graph, out: Path, **kwargs) -> np.ndarray:
    return train(cfg, graph, out, progress=False, **kwargs).embed(graph)


def cli(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graph_eigen", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=ENV, timeout=120)


def assert_one_line_error(returncode: int, stderr: str, message: str) -> None:
    assert returncode == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("graph-eigen: error: ")
    assert message in lines[0], lines[0]


@pytest.fixture(scope="module")
def graph() -> Graph:
    return load_dataset(SBM)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A folder of bad inputs, plus a trained table run and damaged copies of it."""
    w = tmp_path_factory.mktemp("bad_inputs")
    ring = np.array([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    np.savez(w / "out_of_range.npz", edge_index=np.array([[0, 1], [1, 99]]), num_nodes=10)
    np.savez(w / "negative.npz", edge_index=np.array([[0, -1], [1, 2]]))
    np.savez(w / "wrong_shape.npz", edge_index=np.zeros((3, 4), dtype=np.int64))
    np.savez(w / "float_edges.npz", edge_index=ring.astype(np.float64) + 0.5)
    x = np.ones((5, 2), dtype=np.float32)
    x[2, 1] = np.inf
    np.savez(w / "nan_features.npz", edge_index=ring, x=x)
    np.savez(w / "short_labels.npz", edge_index=ring, y=np.zeros(3, dtype=np.int64))
    np.savez(w / "empty.npz", edge_index=np.zeros((2, 0), dtype=np.int64), num_nodes=5)
    np.savez(w / "featureless.npz", edge_index=ring)
    (w / "corrupt.npz").write_bytes(b"PK\x03\x04 this is not really a zip archive")
    (w / "empty_root").mkdir()
    (w / "a_file").write_text("not a folder")
    np.save(w / "wrong_rows.npy", np.zeros((10, 4), dtype=np.float32))
    (w / "junk.npy").write_bytes(b"\x93NUMPY garbage")

    run = w / "table_run"
    assert main(["train", "--dataset", SBM, "--out", str(run), "--encoder", "table", "--epochs", "1",
                 *SMALL]) == 0
    ckpt = (run / CHECKPOINT).read_bytes()

    def damaged(name: str, change) -> None:
        shutil.copytree(run, w / name)
        change(w / name)

    damaged("truncated_ckpt", lambda r: (r / CHECKPOINT).write_bytes(ckpt[: len(ckpt) // 2]))
    damaged("garbage_ckpt", lambda r: (r / CHECKPOINT).write_bytes(b"\x00" * 100))
    damaged("not_a_ckpt", lambda r: torch.save([1, 2, 3], r / CHECKPOINT))
    damaged("bad_config", lambda r: (r / "config.json").write_text("{ not json"))
    damaged("list_config", lambda r: (r / "config.json").write_text("[1, 2]"))
    damaged("no_embeddings", lambda r: (r / "embeddings.npy").unlink())
    damaged("other_dim", lambda r: (r / "config.json").write_text(
        (r / "config.json").read_text().replace('"dim": 4', '"dim": 3')))
    return w


TRAIN = ["train", "--dataset", SBM, *SMALL]
BAD_INPUTS = [  # (arguments, part of the one-line message); {w} is the `work` folder
    (["info", "--dataset", "file:{w}/out_of_range.npz"], "refers to node 99 but the graph has 10 nodes"),
    (["info", "--dataset", "file:{w}/negative.npz"], "negative node id"),
    (["info", "--dataset", "file:{w}/wrong_shape.npz"], "must have shape (2, E)"),
    (["info", "--dataset", "file:{w}/float_edges.npz"], "integer"),
    (["info", "--dataset", "file:{w}/nan_features.npz"], "NaN or infinite values in 1 rows"),
    (["info", "--dataset", "file:{w}/short_labels.npz"], "labels must have shape (5,)"),
    (["info", "--dataset", "file:{w}/empty.npz"], "empty graph"),
    (["info", "--dataset", "file:{w}/corrupt.npz"], "corrupt.npz"),
    (["info", "--dataset", "file:{w}/missing.npz"], "does not exist"),
    (["info", "--dataset", "Cora", "--root", "{w}/empty_root"], "not found"),
    ([*TRAIN, "--dataset", "NoSuchGraph", "--out", "{w}/new"], "unknown dataset 'NoSuchGraph'"),
    ([*TRAIN, "--out", "{w}/new", "--dim", "600"], "--dim must be smaller than the number of nodes (600)"),
    ([*TRAIN, "--out", "{w}/new", "--dim", "0"], "--dim must be positive"),
    ([*TRAIN, "--out", "{w}/new", "--batch-size", "-1"], "--batch-size must be a positive number of seeds, or 0"),
    ([*TRAIN, "--out", "{w}/new", "--fanouts", "5,0"], "fanout must be positive or -1"),
    ([*TRAIN, "--out", "{w}/new", "--fanouts", "5,x"], "fanouts must be integers"),
    ([*TRAIN, "--out", "{w}/new", "--epochs", "0"], "--epochs must be positive"),
    ([*TRAIN, "--out", "{w}/new", "--lr", "-1"], "--lr must be positive"),
    ([*TRAIN, "--out", "{w}/new", "--checkpoint-every", "0"], "--checkpoint-every must be a positive"),
    ([*TRAIN, "--out", "{w}/new", "--dropout", "1.0"], "dropout must lie in [0, 1)"),
    ([*TRAIN, "--out", "{w}/new", "--hidden", "0"], "hidden >= 1"),
    ([*TRAIN, "--out", "{w}/new", "--encoder", "table", "--weight-decay", "0.1"], "--weight-decay is not supported"),
    ([*TRAIN, "--out", "{w}/new", "--dataset", "file:{w}/featureless.npz", "--dim", "2"], "needs node features"),
    ([*TRAIN, "--out", "{w}/new", "--train-nodes", "{w}/missing.npy"], "cannot read --train-nodes"),
    ([*TRAIN, "--out", "{w}/a_file/run"], "is not writable"),
    ([*TRAIN, "--out", "{w}/a_file"], "exists and is not a folder"),
    ([*TRAIN, "--out", "{w}/table_run"], "already exists and is not empty; pass --overwrite or --resume"),
    (["train", "--out", "{w}/nothing", "--resume"], "is not a run folder: config.json is missing"),
    (["train", "--out", "{w}/truncated_ckpt", "--resume", "--no-progress"], "corrupt or truncated"),
    (["train", "--out", "{w}/other_dim", "--resume", "--no-progress"], "cannot resume from the checkpoint"),
    (["embed", "{w}/truncated_ckpt"], "corrupt or truncated"),
    (["embed", "{w}/garbage_ckpt"], "corrupt or truncated"),
    (["embed", "{w}/not_a_ckpt"], "is not a graph-eigen checkpoint"),
    (["embed", "{w}/bad_config"], "config.json' is corrupt"),
    (["embed", "{w}/list_config"], "config.json' is corrupt"),
    (["embed", "{w}/table_run", "--dataset", "sbm:n=500,classes=3,avg_degree=10,features=8,seed=0",
      "--out", "{w}/other.npy"],
     "does not fit dataset 'sbm' (500 nodes"),
    (["embed", "{w}/table_run", "--out", "{w}/a_file/emb.npy"], "cannot write to"),
    (["eval", "{w}/no_embeddings"], "run `graph-eigen embed"),
    (["probe", "{w}/wrong_rows.npy", "--dataset", SBM], "embedding has 10 rows but dataset 'sbm' has 600 nodes"),
    (["probe", "{w}/junk.npy", "--dataset", SBM], "cannot read embedding"),
    (["probe", "{w}/missing.npy", "--dataset", SBM], "not found"),
]


@pytest.mark.parametrize("args, message", BAD_INPUTS, ids=[f"{i:02d}-{m[:30]}" for i, (_, m) in enumerate(BAD_INPUTS)])
def test_bad_input_is_one_line_exit_2(args, message, work, capsys):
    args = [a.format(w=work) for a in args]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse errors (e.g. a non-integer fanout)
        code = exc.code
    err = capsys.readouterr().err
    assert_one_line_error(code, err, message)
    assert not (work / "new").exists(), "a rejected option must not leave a run folder behind"


# the important ones again, as a user runs them: a real process, no traceback, one line
SUBPROCESS_CASES = {"edge out of range": 0, "NaN features": 4, "K >= n": 11, "negative batch size": 13,
                    "existing run folder": 26, "truncated checkpoint": 30, "probe row mismatch": 38}


@pytest.mark.parametrize("index", SUBPROCESS_CASES.values(), ids=SUBPROCESS_CASES.keys())
def test_bad_input_subprocess(index, work):
    args, message = BAD_INPUTS[index]
    result = cli(*[a.format(w=work) for a in args], cwd=work)
    assert_one_line_error(result.returncode, result.stderr, message)


@pytest.mark.parametrize("overrides, error, message", [
    (dict(batch_size=-5), ConfigError, "`batch_size` must be a positive number of seeds, or 0"),
    (dict(fanouts=[0]), ConfigError, "fanout must be positive"),
    (dict(fanouts=[]), ConfigError, "at least one hop"),
    (dict(dim=600), ConfigError, "smaller than the number of nodes"),
    (dict(dim=-1), ConfigError, "`dim` must be positive"),
    (dict(optimizer="adagrad"), ConfigError, "unknown optimizer"),
    (dict(encoder="transformer"), ConfigError, "unknown encoder"),
    (dict(objective="pca"), ConfigError, "unknown objective"),
])
def test_library_rejects_bad_options(overrides, error, message, graph, tmp_path):
    with pytest.raises(error, match=message) as info:
        train(small_config(**overrides), graph, tmp_path / "run", progress=False)
    assert isinstance(info.value, GraphEigenError)
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_output_folder(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code = main([*TRAIN, "--out", str(locked / "run")])
    finally:
        locked.chmod(0o700)
    assert_one_line_error(code, capsys.readouterr().err, "is not writable")


def test_library_rejects_bad_data_and_files(work):
    with pytest.raises(DatasetNotFoundError, match="unknown dataset"):
        load_dataset("NoSuchGraph")
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_dataset("Cora", str(work / "no_such_root"))
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(work / "truncated_ckpt")
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(work / "empty_root")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_config(work / "bad_config")


# ---------------------------------------------------------------------- interruption
# The killed process writes slower checkpoints (same numbers) so that the kill lands mid-run.
def slow_train_script(delay: float) -> str:
    """`python -c` source of the CLI with every checkpoint followed by a pause of ``delay`` s."""
    return f"""
import sys, time
import graph_eigen.runs.recorder as t
save = t.save_checkpoint
def slow_save(run, state):
    out = save(run, state)
    time.sleep({delay})
    return out
t.save_checkpoint = slow_save
from graph_eigen.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


SLOW_TRAIN = slow_train_script(0.25)


def read_metrics(run: Path) -> list[dict]:
    """The complete records of metrics.jsonl (a line still being written is left out)."""
    path = run / "metrics.jsonl"
    lines = path.read_text().splitlines(keepends=True) if path.exists() else []
    return [json.loads(line) for line in lines if line.endswith("\n")]


@pytest.mark.parametrize("options", [
    ["--encoder", "sage", "--dropout", "0.2"],  # sampling and dropout draw from torch's RNG
    ["--encoder", "table", "--optimizer", "adam"],  # sparse gradients: SparseAdam's state
])
def test_sigkill_then_resume_matches_uninterrupted_run(options, tmp_path):
    args = ["train", "--dataset", SBM, *SMALL, *options, "--epochs", "3", "--checkpoint-every", "3"]
    total = 3 * 8

    reference = tmp_path / "reference"
    assert main([*args, "--out", str(reference)]) == 0
    expected = np.load(reference / "embeddings.npy")

    run = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_TRAIN, *args, "--out", str(run)], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while len(read_metrics(run)) < 4 or not (run / CHECKPOINT).exists():
            assert proc.poll() is None, f"training ended before it was killed: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (run / "embeddings.npy").exists()
    killed_at = load_checkpoint(run)["step"]
    assert 0 < killed_at < total
    before = [r for r in read_metrics(run) if r["step"] < killed_at]

    result = cli("-v", "train", "--out", run, "--resume", "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"resumed from step {killed_at}" in result.stderr
    metrics = read_metrics(run)
    assert [r["step"] for r in metrics] == list(range(total)), "every step recorded exactly once"
    assert metrics[:killed_at] == before, "steps before the checkpoint were not trained again"
    assert not list(run.glob(".*.tmp")), "no temporary file left behind"
    assert np.array_equal(np.load(run / "embeddings.npy"), expected)


@pytest.mark.parametrize("encoder, batch_size, estimator", [
    ("table", 80, "bank"), ("mlp", 80, "bank"), ("sage", 80, "bank"), ("mlp", 0, "bank"), ("sage", 80, "targets")])
def test_resume_in_process_is_bitwise_equal(encoder, batch_size, estimator, graph, tmp_path):
    cfg = dict(encoder=encoder, batch_size=batch_size, epochs=2, checkpoint_every=2, dropout=0.1,
               estimator=estimator, target_every=3)
    expected = embedding_of(small_config(**cfg), graph, tmp_path / "a")
    stop = 1 if batch_size == 0 else 5  # mid-epoch, after the checkpoint of step 4
    train(small_config(**cfg), graph, tmp_path / "b", progress=False, stop_after=stop)
    resumed = embedding_of(small_config(**cfg), graph, tmp_path / "b", resume=True)
    assert np.array_equal(resumed, expected)
    steps = [r["step"] for r in read_metrics(tmp_path / "b")]
    assert steps == list(range(len(steps))) and len(steps) == len(read_metrics(tmp_path / "a"))


# ---------------------------------------------------------------------- determinism
@pytest.mark.parametrize("encoder", ["table", "sage"])
def test_same_seed_is_bitwise_identical_other_seed_differs(encoder, graph, tmp_path):
    cfg = dict(encoder=encoder, epochs=1, dropout=0.1 if encoder != "table" else 0.0)
    first = embedding_of(small_config(seed=3, **cfg), graph, tmp_path / "a")
    torch.manual_seed(12345)  # whatever state the caller left must not matter
    again = embedding_of(small_config(seed=3, **cfg), graph, tmp_path / "b")
    other = embedding_of(small_config(seed=4, **cfg), graph, tmp_path / "c")
    assert first.dtype == np.float32 and np.isfinite(first).all()
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


# ---------------------------------------------------------------------- numerical guards
def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(graph, tmp_path, monkeypatch):
    from graph_eigen.model.objectives.neuralef_targets import NeuralEFTargets  # the default estimator

    real_loss = NeuralEFTargets.loss
    calls = []

    def loss_nan_at_step_5(self, batch, psi):
        value, record = real_loss(self, batch, psi)
        calls.append(1)
        return (value * float("nan"), record) if len(calls) == 6 else (value, record)

    monkeypatch.setattr(NeuralEFTargets, "loss", loss_nan_at_step_5)
    run = tmp_path / "run"
    with pytest.raises(TrainingDivergedError, match="non-finite loss at step 5; the last good checkpoint"):
        train(small_config(epochs=2, checkpoint_every=2), graph, run, progress=False)
    state = load_checkpoint(run)
    assert state["step"] == 4
    assert all(torch.isfinite(v).all() for v in state["encoder"].values())
    assert [r["step"] for r in read_metrics(run)] == [0, 1, 2, 3, 4]

    monkeypatch.setattr(NeuralEFTargets, "loss", real_loss)  # the run can go on from there
    train(small_config(epochs=2, checkpoint_every=2), graph, run, progress=False, resume=True)
    assert load_checkpoint(run)["step"] == 16


def test_diverging_cli_run_is_one_line_and_keeps_checkpoint(tmp_path):
    result = cli("train", "--dataset", SBM, *SMALL, "--encoder", "mlp", "--optimizer", "sgd", "--lr", "1e30",
                 "--checkpoint-every", "1", "--out", "run", cwd=tmp_path)
    assert_one_line_error(result.returncode, result.stderr, "non-finite")
    state = load_checkpoint(tmp_path / "run")
    assert all(torch.isfinite(v).all() for v in state["encoder"].values())
    assert not (tmp_path / "run" / "embeddings.npy").exists()


def test_batches_without_edges_are_skipped_and_counted(tmp_path):
    # a 6-node ring and 34 isolated nodes: most batches of 4 seeds have no kernel edge, which an
    # objective that reads the batch operator cannot use
    ring = torch.stack([torch.arange(6), (torch.arange(6) + 1) % 6])
    g = Graph.from_edges(ring, num_nodes=40)
    cfg = TrainConfig(dataset="ring", encoder="table", dim=2, epochs=1, batch_size=4, fanouts=[3],
                      estimator="running")  # a gradient estimator: it reads the batch operator
    train(cfg, g, tmp_path / "run", progress=False)
    metrics = read_metrics(tmp_path / "run")
    skipped = [r for r in metrics if r.get("skipped_batch")]
    trained = [r for r in metrics if "loss" in r]
    assert len(metrics) == 10 and skipped and trained
    assert metrics[-1]["skipped_total"] == len(skipped)
    assert all(np.isfinite(r["loss"]) for r in trained)


# ---------------------------------------------------------------------- atomic writes
def test_failed_npy_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "emb.npy"
    save_npy(path, np.arange(6, dtype=np.float32))
    real_save = np.save

    def disk_full(fh, array):
        fh.write(b"\x93NUMPY partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save", disk_full)
    with pytest.raises(ConfigError, match="No space left on device"):
        save_npy(path, np.zeros(100, dtype=np.float32))
    monkeypatch.setattr(np, "save", real_save)
    assert np.array_equal(np.load(path), np.arange(6, dtype=np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emb.npy"]


def test_interrupted_checkpoint_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, {"encoder": {"w": torch.ones(3)}, "step": 7})
    real_save = torch.save

    def interrupted(obj, f):
        if not isinstance(f, (str, Path)):  # the payload serialized in memory
            return real_save(obj, f)
        Path(f).write_bytes(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, {"encoder": {"w": torch.zeros(3)}, "step": 8})
    monkeypatch.setattr(torch, "save", real_save)
    assert load_checkpoint(tmp_path)["step"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHECKPOINT]


def test_resume_with_fewer_epochs_than_done_is_refused(tmp_path, capsys):
    """--resume --epochs N below the epochs already trained: refused, config.json untouched."""
    from graph_eigen.cli.main import main

    run = tmp_path / "run"
    base = ["train", "--dataset", "sbm:n=300,classes=3,avg_degree=10,features=8,seed=0", "--dim", "3",
            "--layers", "2", "--out", str(run), "--no-progress"]  # an MLP: trained by steps
    assert main(base + ["--epochs", "3"]) == 0
    before = (run / "config.json").read_bytes()
    assert main(["train", "--out", str(run), "--resume", "--epochs", "1", "--no-progress"]) == 2
    assert "resuming can only extend a run" in capsys.readouterr().err
    assert (run / "config.json").read_bytes() == before
