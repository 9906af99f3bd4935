"""Data-parallel training (graph_eigen.training.distributed) against a single process on the union batches.

Two processes on loopback (CPU, gloo) run once per session (``dist_results``) and leave their
results in a folder; each test compares one of them with the single-process computation.
With fanout -1 and an MLP, the union of the ranks' batches is exactly the single-process batch
of ``world_size * batch_size`` seeds, so gradients and embeddings must agree to round-off.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from graph_eigen.config import TrainConfig
from graph_eigen.data import load_dataset
from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.runs.checkpoint import load_checkpoint
from graph_eigen.training.distributed import DistContext, ShardedBatchSampler, make_sampler, setup_model, shard_bounds

WORLD = 2
B = 50  # per rank
# 301 nodes: global batches of 100, 100, 100 and 1 seed, so rank 1's share of the last is empty
SBM = "sbm:n=301,classes=3,avg_degree=10,features=8,seed=0"
SMOKE_SBM = "sbm:n=600,classes=3,avg_degree=10,features=8,seed=0"
TIMEOUT_S = 120


def _cfg(batch_size: int, **kw) -> TrainConfig:
    base = dict(dataset=SBM, objective="neuralef", encoder="mlp", dim=4, hidden=32, layers=2,
                batch_size=batch_size, fanouts=[-1], epochs=3, lr=0.01, seed=3, checkpoint_every=5)
    return TrainConfig(**{**base, **kw})


# gradient cases: name -> config overrides
GRAD_CASES = {
    "neuralef-running": {"estimator": "running"},
    "neuralef-batch": {"estimator": "batch"},
    "neuralef-bank": {"estimator": "bank"},
    "neuralef-targets": {"estimator": "targets", "power": 4},
    "basis-global": {"objective": "basis", "anchors": 20},
}


# short runs (3 epochs = 12 steps): run folder -> config overrides
# (not the targets estimator: a rank's forward pass rounds differently from the union batch's,
# and early refreshes choose a column's sign from an inner product near 0, so a 1e-7 difference
# can flip a target; GRAD_CASES checks its gradients)
SHORT_RUNS = {"run": {"estimator": "bank"}, "run-running": {"estimator": "running"},
              "run-basis": {"objective": "basis", "anchors": 20}}


def step_gradients(cfg: TrainConfig, graph, ctx: DistContext, steps: int = 2) -> list:
    """The flat encoder gradient of each of the first ``steps`` batches (no parameter update)."""
    from graph_eigen.model.build import build_model

    model = build_model(cfg, graph)
    sampler = make_sampler(ctx, graph, cfg.batch_size, cfg.fanouts, seed=cfg.seed,
                           anchors=model.objective.anchor_nodes(graph),
                           with_features=model.encoder.reads_features)
    setup_model(ctx, model, graph, sampler)
    grads = []
    for _, batch in zip(range(steps), sampler.epoch()):
        model.encoder.zero_grad(set_to_none=True)
        loss, _ = model.objective.loss(batch, model.encoder(batch))
        loss.backward()
        ctx.average_gradients(model.encoder)
        grads.append(torch.cat([p.grad.reshape(-1) for p in model.encoder.parameters()]).clone())
    return grads


def _worker(rank: int, world: int, port: int, out: str) -> None:
    """One rank: the process group from torchrun-style variables, then every distributed check."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    from graph_eigen.model.build import build_model
    from graph_eigen.runs.recorder import train
    from graph_eigen.runs.export import export_sharded
    from graph_eigen.training.distributed import embed_sharded, init_distributed

    out = Path(out)
    ctx = init_distributed(backend="gloo")
    try:
        graph = load_dataset(SBM)
        for name, overrides in GRAD_CASES.items():
            grads = step_gradients(_cfg(B, **overrides), graph, ctx)
            if ctx.is_writer:
                torch.save(grads, out / f"grad-{name}.pt")
        for run, overrides in SHORT_RUNS.items():
            model = train(_cfg(B, **overrides), graph, out / run, progress=False, dist=ctx)
            export_sharded(ctx, model, graph, out / run / "embeddings.npy", run_dir=out / run)
        sage = build_model(_cfg(B, encoder="sage", seed=rank + 11, input_dim=5), graph)  # different init per rank...
        ctx.broadcast_module(sage.encoder)  # ... made equal to rank 0's
        emb = embed_sharded(ctx, sage, graph)
        if ctx.is_writer:
            np.save(out / "sage.npy", emb)
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def dist_results(tmp_path_factory):
    import torch.multiprocessing as mp

    out = tmp_path_factory.mktemp("dist")
    started = time.perf_counter()
    procs = mp.start_processes(_worker, args=(WORLD, _free_port(), str(out)), nprocs=WORLD,
                               join=False, start_method="fork")  # fork: no second import of torch
    try:
        while not procs.join(timeout=1):
            if time.perf_counter() - started > TIMEOUT_S:
                pytest.fail(f"distributed workers did not finish in {TIMEOUT_S} s")
    finally:
        for p in procs.processes:
            if p.is_alive():
                p.terminate()
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def graph():
    return load_dataset(SBM)


# ------------------------------------------------------------------ sharding (no processes)
def test_union_of_shards_is_the_single_process_batch(graph):
    single = BatchSampler(graph, WORLD * B, [-1], seed=5)
    shards = [ShardedBatchSampler(graph, B, [-1], seed=5, rank=r, world_size=WORLD) for r in range(WORLD)]
    assert all(s.steps_per_epoch == single.steps_per_epoch == 4 for s in shards)
    for _ in range(2):  # two epochs: the shared generator stays in step
        for one, *parts in zip(single.epoch(), *[s.epoch() for s in shards]):
            union = torch.cat([p.n_id[:p.num_seeds] for p in parts])
            assert sorted(union.tolist()) == sorted(one.n_id[:one.num_seeds].tolist())
            assert sum(p.op_index.shape[1] for p in parts) == one.op_index.shape[1]
    assert [p.num_seeds for p in parts] == [1, 0]  # the last global batch has one seed


def test_shard_bounds_cover_every_node_once():
    assert shard_bounds(10, 3) == [0, 3, 6, 10]
    assert shard_bounds(1, 2) == [0, 0, 1]


def test_single_process_context_is_a_no_op(graph):
    ctx = DistContext()
    t = torch.arange(3.0)
    assert ctx.sum(t) is t and ctx.reduce_statistic(t) is t and ctx.all_true(True)
    assert type(make_sampler(ctx, graph, 10, [5])) is BatchSampler
    assert ctx.on_writer(lambda: 7) == 7 and ctx.run_info() == {}


# ------------------------------------------------------------------ two processes
@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_distributed_gradient_equals_union_batch_gradient(dist_results, graph, name):
    distributed = torch.load(dist_results / f"grad-{name}.pt")
    single = step_gradients(_cfg(WORLD * B, **GRAD_CASES[name]), graph, DistContext())
    assert len(distributed) == len(single) == 2
    for d, s in zip(distributed, single):
        assert s.norm() > 0
        assert float((d - s).norm() / s.norm()) < 1e-5


@pytest.mark.parametrize("run_name", list(SHORT_RUNS))
def test_short_run_gives_the_single_process_embedding(dist_results, graph, tmp_path, run_name):
    from graph_eigen.runs.export import export_embeddings
    from graph_eigen.runs.recorder import train

    model = train(_cfg(WORLD * B, **SHORT_RUNS[run_name]), graph, tmp_path / "single", progress=False)
    export_embeddings(model, graph, tmp_path / "single" / "embeddings.npy")
    run = dist_results / run_name
    single, dist = np.load(tmp_path / "single" / "embeddings.npy"), np.load(run / "embeddings.npy")
    assert dist.shape == single.shape == (graph.num_nodes, 4)
    np.testing.assert_allclose(dist, single, atol=1e-5, rtol=0)
    assert np.abs(single).max() > 0.1  # a real embedding, not a degenerate one
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    expected = [json.loads(line) for line in (tmp_path / "single" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [r["step"] for r in expected]  # rank 0 alone writes
    np.testing.assert_allclose([r["loss"] for r in records], [r["loss"] for r in expected], rtol=1e-4, atol=1e-6)
    assert json.loads((run / "config.json").read_text())["distributed"]["world_size"] == WORLD
    assert load_checkpoint(run)["step"] == len(expected)


def test_resume_needs_the_same_number_of_processes(dist_results, graph):
    from graph_eigen.errors import CheckpointError
    from graph_eigen.runs.recorder import train

    with pytest.raises(CheckpointError, match="trained with 2 process"):
        train(_cfg(B, epochs=4), graph, dist_results / "run", resume=True, progress=False)


def test_sharded_gnn_export_equals_layerwise_inference(dist_results, graph):
    from graph_eigen.model.build import build_model

    model = build_model(_cfg(WORLD * B, encoder="sage", seed=11, input_dim=5), graph)  # rank 0's initialization
    np.testing.assert_allclose(np.load(dist_results / "sage.npy"), model.embed(graph), atol=1e-5, rtol=0)


# ------------------------------------------------------------------ the command line
def test_distributed_flag_without_torchrun_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    from graph_eigen.cli.main import main

    for var in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    code = main(["train", "--dataset", SMOKE_SBM, "--out", str(tmp_path / "r"), "--encoder", "mlp", "--distributed"])
    err = capsys.readouterr().err
    assert code == 2 and "torchrun" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
    code = main(["train", "--dataset", SMOKE_SBM, "--out", str(tmp_path / "r"), "--encoder", "table", "--distributed"])
    assert code == 2 and "table encoder" in capsys.readouterr().err


TORCHRUN = Path(sys.executable).with_name("torchrun")


@pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun is not installed next to this python")
def test_torchrun_cli_smoke(tmp_path):
    out = tmp_path / "run"
    cmd = [str(TORCHRUN), "--nproc-per-node", str(WORLD), "--master-addr", "127.0.0.1",
           "--master-port", str(_free_port()), "-m", "graph_eigen", "train", "--dataset", SMOKE_SBM,
           "--out", str(out), "--objective", "neuralef", "--encoder", "mlp", "--dim", "4", "--hidden", "32", "--epochs", "2",
           "--batch-size", "100", "--fanouts", "5", "--no-progress", "--distributed"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=TIMEOUT_S, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(printed) == 1 and printed[0]["world_size"] == WORLD  # rank 0 alone prints
    emb = np.load(out / "embeddings.npy")
    assert emb.shape == (600, 4) and np.isfinite(emb).all()
    records = (out / "metrics.jsonl").read_text().splitlines()
    assert len(records) == 2 * 3  # 600 seeds / (2 x 100) = 3 steps per epoch
    shutil.rmtree(out)


def test_distributed_train_gets_the_size_based_defaults(tmp_path, monkeypatch):
    """Issue 23.10: --distributed builds its configuration as one process does (fit.run_config),
    with the defaults for the loaded graph's size (here: a process group of one)."""
    from graph_eigen.cli.main import main
    from graph_eigen.runs.checkpoint import load_config
    from graph_eigen.runs.presets import recommended_config

    for name, value in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                        "MASTER_PORT": str(_free_port())}.items():
        monkeypatch.setenv(name, value)
    dataset = "sbm:n=300,classes=3,avg_degree=10,features=6,seed=0"
    assert main(["train", "--dataset", dataset, "--dim", "4", "--out", str(tmp_path / "run"), "--no-progress",
                 "--distributed"]) == 0
    saved = load_config(tmp_path / "run")
    expected = recommended_config(dataset, 300)
    assert (saved.anchors, saved.batch_size, saved.epochs, saved.feature_knn) == \
        (150, expected.batch_size, expected.epochs, 10)


def test_a_rank_exits_without_finalizing_the_interpreter(monkeypatch):
    """Issue 23.31: a process that joined a process group ends by os._exit once main returns, so
    no gloo worker thread can ask for the GIL while the interpreter finalizes (the abort
    "terminate called without an active exception" of test_torchrun_cli_smoke)."""
    from graph_eigen.cli import main as cli_main
    from graph_eigen.training.distributed import collectives

    exits = []
    monkeypatch.setattr(cli_main, "main", lambda: 0)
    monkeypatch.setattr(collectives.os, "_exit", exits.append)
    monkeypatch.setattr(collectives, "_JOINED", [True])
    with pytest.raises(SystemExit):  # os._exit is replaced: run goes on to sys.exit
        cli_main.run()
    assert exits == [0]
    monkeypatch.setattr(collectives, "_JOINED", [])
    with pytest.raises(SystemExit) as one_process:
        cli_main.run()
    assert one_process.value.code == 0 and exits == [0]  # one process: a normal exit
