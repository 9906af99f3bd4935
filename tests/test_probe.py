"""Linear probe, baselines, plots and the `probe` / `plot` sub-commands."""
import argparse
import json

import numpy as np
import pytest

from graph_eigen.errors import ConfigError
from graph_eigen.evaluate import probe as probe_mod
from graph_eigen.evaluate.probe import linear_probe, truncation_curve
from graph_eigen.graph.core import Graph

N, C = 600, 4


def make_graph(n=N, classes=C, split=None, name="toy", seed=0, labels=True) -> Graph:
    """Homophilous random graph with class-informative (noisy) features."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    src = rng.integers(0, n, 8 * n)
    same = np.array([rng.choice(np.flatnonzero(y == y[s])) for s in src[: 4 * n]])
    dst = np.concatenate([same, rng.integers(0, n, 4 * n)])
    means = rng.standard_normal((classes, 20))
    x = means[y] + 1.5 * rng.standard_normal((n, 20))
    return Graph.from_edges(np.vstack([src, dst]), num_nodes=n, x=x.astype(np.float32),
                            y=y if labels else None, split=split, name=name)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The probe's small matrices gain little from threads and suffer badly on a busy CPU."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def graph():
    return make_graph()


def perfect_embedding(graph, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    onehot = np.eye(graph.num_classes)[graph.y.numpy()]
    return (onehot + noise * rng.standard_normal(onehot.shape)).astype(np.float32)


def noise_embedding(graph, dim=16, seed=1):
    return np.random.default_rng(seed).standard_normal((graph.num_nodes, dim)).astype(np.float32)


def mixed_embedding(graph, noise=1.0):
    """Informative but not separable columns, then pure noise columns."""
    return np.concatenate([perfect_embedding(graph, noise=noise), noise_embedding(graph, 12)], axis=1)


# ---------------------------------------------------------------------- accuracy
def test_perfect_embedding_scores_high(graph):
    res = linear_probe(perfect_embedding(graph), graph, seeds=2)
    assert res["accuracy_mean"] > 95
    assert res["split"] == "random" and res["input_dim"] == C and res["dims"] == C
    assert res["train_size"] == 60 and res["val_size"] == 60 and res["test_size"] == 480


def test_random_noise_is_near_chance(graph):
    res = linear_probe(noise_embedding(graph), graph, seeds=3)
    assert res["accuracy_mean"] < 100 / C + 15


def test_per_seed_and_determinism(graph):
    emb = mixed_embedding(graph)
    a = linear_probe(emb, graph, seeds=3)
    b = linear_probe(emb, graph, seeds=3)
    assert len(a["per_seed"]) == 3
    assert [r["seed"] for r in a["per_seed"]] == [0, 1, 2]
    for r in a["per_seed"]:
        assert set(r) >= {"seed", "test_accuracy", "val_accuracy", "weight_decay"}
    assert [r["test_accuracy"] for r in a["per_seed"]] == [r["test_accuracy"] for r in b["per_seed"]]
    assert a["accuracy_std"] >= 0 and np.isclose(
        a["accuracy_mean"], np.mean([r["test_accuracy"] for r in a["per_seed"]]))


def test_label_ratio_shrinks_training_set(graph):
    full = linear_probe(perfect_embedding(graph), graph, seeds=1)
    part = linear_probe(perfect_embedding(graph), graph, seeds=1, label_ratio=0.5)
    assert part["train_size"] == full["train_size"] // 2
    assert part["test_size"] == full["test_size"] and part["label_ratio"] == 0.5


def test_concat_features_and_stratify(graph):
    res = linear_probe(noise_embedding(graph, dim=4), graph, seeds=1, concat_features=True,
                       stratify=True)
    assert res["input_dim"] == 4 + graph.num_features
    feats = linear_probe(graph.x.numpy(), graph, seeds=1)
    assert feats["accuracy_mean"] > 100 / C + 20  # the features carry the class


# ---------------------------------------------------------------------- errors
def test_row_mismatch_names_both_numbers(graph):
    with pytest.raises(ConfigError, match=rf"{N - 1}.*{N}"):
        linear_probe(np.zeros((N - 1, 4), np.float32), graph)


def test_bad_inputs_raise_config_error(graph):
    emb = perfect_embedding(graph)
    bad = emb.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        linear_probe(bad, graph)
    with pytest.raises(ConfigError, match="labels"):
        linear_probe(emb, make_graph(labels=False))
    for tf, vf in [(0.6, 0.5), (0.0, 0.1), (1.2, 0.1), (0.1, -0.1)]:
        with pytest.raises(ConfigError, match="fraction"):
            linear_probe(emb, graph, train_frac=tf, val_frac=vf)
    with pytest.raises(ConfigError, match="label_ratio"):
        linear_probe(emb, graph, label_ratio=0)
    with pytest.raises(ConfigError, match="official split"):
        linear_probe(emb, graph, split="official")


# ---------------------------------------------------------------------- sizes and paths
def test_memmap_matches_in_memory(graph, tmp_path):
    emb = mixed_embedding(graph)
    np.save(tmp_path / "emb.npy", emb)
    mm = np.load(tmp_path / "emb.npy", mmap_mode="r")
    a = linear_probe(emb, graph, seeds=2)
    b = linear_probe(mm, graph, seeds=2)
    assert a["accuracy_mean"] == b["accuracy_mean"]


def test_minibatch_path_on_memmap(graph, tmp_path):
    """Chunks smaller than the training set: Adam on minibatches, close to full-batch."""
    emb = mixed_embedding(graph)
    np.save(tmp_path / "emb.npy", emb)
    mm = np.load(tmp_path / "emb.npy", mmap_mode="r")
    full = linear_probe(emb, graph, seeds=2, train_frac=0.3)
    mini = linear_probe(mm, graph, seeds=2, train_frac=0.3, chunk_size=64, epochs=30, batch_size=32)
    assert full["mode"].startswith("full") and mini["mode"].startswith("minibatch")
    assert abs(full["accuracy_mean"] - mini["accuracy_mean"]) < 5


def test_truncation_curve_dims(graph):
    emb = np.concatenate([perfect_embedding(graph), noise_embedding(graph, dim=8)], axis=1)
    curve = truncation_curve(emb, graph, seeds=1)
    assert curve["dims"] == [1, 2, 4, 8, 12]
    assert len(curve["accuracy_mean"]) == 5 and [r["dims"] for r in curve["results"]] == [1, 2, 4, 8, 12]
    assert curve["accuracy_mean"][2] > 95  # the 4 informative columns come first
    assert truncation_curve(emb[:, :8], graph, seeds=1)["dims"] == [1, 2, 4, 8]


def test_official_split_uses_its_test_nodes(monkeypatch):
    rng = np.random.default_rng(3)
    perm = rng.permutation(N)
    split = {"train": perm[:100], "valid": perm[100:200], "test": perm[200:350]}
    g = make_graph(split=split, name="ogbn-toy")
    seen = {}

    class FakeEvaluator:
        def eval(self, d):
            seen.update(d)
            return {"acc": float((d["y_true"] == d["y_pred"]).mean())}

    monkeypatch.setattr(probe_mod, "_make_evaluator", lambda name: FakeEvaluator())
    res = linear_probe(perfect_embedding(g), g, split="official", seeds=2)
    test = np.sort(split["test"])
    assert res["test_size"] == 150 and res["train_size"] == 100 and res["val_size"] == 100
    assert res["evaluator"] == "ogb"
    np.testing.assert_array_equal(seen["y_true"].ravel(), g.y.numpy()[test])
    assert res["accuracy_mean"] > 95


# ---------------------------------------------------------------------- baselines
def test_baselines(graph):
    from graph_eigen.config import TrainConfig
    from graph_eigen.evaluate.baselines import probe_baselines

    cfg = TrainConfig(encoder="mlp", dim=8, hidden=16, layers=2)
    res = probe_baselines(graph, dim=8, run_config=cfg, seeds=1)
    assert set(res) == {"raw_features", "sgc", "random_encoder", "exact_eigenmap", "exact_eigenmap+features",
                        "sklearn_spectral_embedding"}
    assert res["exact_eigenmap"]["input_dim"] == 8
    assert res["exact_eigenmap+features"]["input_dim"] == 8 + graph.num_features
    assert res["exact_eigenmap"]["accuracy_mean"] > 100 / C + 20  # homophilous graph


def test_sgc_features_match_a_dense_computation(graph):
    from graph_eigen.evaluate.baselines import sgc_features

    a = graph.adjacency().toarray() + np.eye(graph.num_nodes)
    d = 1 / np.sqrt(a.sum(1))
    a_hat = d[:, None] * a * d[None, :]
    expected = a_hat @ a_hat @ graph.x.double().numpy()
    assert np.allclose(sgc_features(graph), expected, atol=1e-5)


# ---------------------------------------------------------------------- plots
def write_fake_run(run, graph, k=4):
    run.mkdir()
    with open(run / "metrics.jsonl", "w") as fh:
        for step in range(30):
            fh.write(json.dumps({"step": step, "loss": 1.0 / (step + 1),
                                 "eig": [1 - 0.1 * j - 0.5 / (step + 1) for j in range(k)]}) + "\n")
        fh.write(json.dumps({"step": 30, "skipped_batch": True}) + "\n")
    vals = list(np.linspace(0, 0.5, k))
    (run / "eval.json").write_text(json.dumps({
        "exact_eigenvalues": vals, "rayleigh_quotients": [v + 0.01 for v in vals],
        "learned_eigenvalues": [v + 0.02 for v in vals]}))
    (run / "probe.json").write_text(json.dumps({"truncation": {
        "dims": [1, 2, 4], "accuracy_mean": [40.0, 60.0, 90.0], "accuracy_std": [1.0, 2.0, 0.5]}}))
    np.save(run / "embeddings.npy", perfect_embedding(graph))


def test_plots_from_fake_run(graph, tmp_path):
    from graph_eigen.evaluate.plots import plot_run

    run = tmp_path / "run"
    write_fake_run(run, graph)
    paths = plot_run(run, labels=graph.y.numpy())
    assert sorted(p.name for p in paths) == ["embedding_2d.png", "spectrum.png",
                                             "training_curves.png", "truncation.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 1000

    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "metrics.jsonl").write_text(json.dumps({"step": 0, "loss": 1.0}) + "\n")
    paths = plot_run(partial, load_labels=False)
    assert [p.name for p in paths] == ["training_curves.png"]


# ---------------------------------------------------------------------- command line
def run_cli(argv, monkeypatch, graph):
    """Parse with this module's own sub-parsers (independent of the other CLI modules)."""
    from graph_eigen.cli import probe as cli_probe
    from graph_eigen.cli.main import COMMANDS

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    cli_probe.add_parsers(sub)
    monkeypatch.setattr(cli_probe, "load_graph", lambda *a, **k: graph)
    args = parser.parse_args(argv)
    return COMMANDS[args.command](args)


def test_cli_probe_npy(graph, tmp_path, monkeypatch, capsys):
    path = tmp_path / "emb.npy"
    np.save(path, perfect_embedding(graph))
    with pytest.raises(ConfigError, match="--dataset"):
        run_cli(["probe", str(path)], monkeypatch, graph)
    assert run_cli(["probe", str(path), "--dataset", "toy", "--seeds", "2", "--truncation"],
                   monkeypatch, graph) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    saved = json.loads((tmp_path / "emb.probe.json").read_text())
    assert summary["accuracy_mean"] == saved["accuracy_mean"] > 95
    assert saved["split"] == "random" and saved["truncation"]["dims"] == [1, 2, 4]


def test_cli_probe_reports_alone_and_with_features_in_one_run(graph, tmp_path, monkeypatch, capsys):
    path = tmp_path / "emb.npy"
    np.save(path, noise_embedding(graph, dim=4))
    assert run_cli(["probe", str(path), "--dataset", "toy", "--seeds", "2", "--concat-features"],
                   monkeypatch, graph) == 0
    saved = json.loads((tmp_path / "emb.probe.json").read_text())
    assert saved["input_dim"] == 4
    assert saved["with_features"]["input_dim"] == 4 + graph.num_features
    # the noise embedding alone is near chance; the features carry the labels
    assert saved["with_features"]["accuracy_mean"] > saved["accuracy_mean"] + 20


def test_cli_plot(graph, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    write_fake_run(run, graph)
    assert run_cli(["plot", str(run), "--dataset", "toy"], monkeypatch, graph) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["plots"]) == 4


# ---------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_photo_raw_features(shared_root):
    from graph_eigen.data import load_dataset

    graph = load_dataset("Photo", str(shared_root))
    res = linear_probe(graph.x.numpy(), graph, seeds=2)
    assert res["accuracy_mean"] > 80, res  # reference: 87.74 (5 seeds)
    assert res["train_size"] == 765 and res["test_size"] == 6120 and res["input_dim"] == 745
