"""The closed-form fit: a linear encoder set to the least-squares fit of whole-graph targets."""
import json

import numpy as np
import pytest

from graph_eigen.cli.main import main
from graph_eigen.config import TrainConfig
from graph_eigen.errors import ConfigError
from graph_eigen.runs.checkpoint import load_config

SBM = "sbm:n=400,classes=4,avg_degree=10,features=12,seed=0"


def test_least_squares_coefficients_recover_a_linear_map():
    from graph_eigen.spectral.feature_span import least_squares_coefficients

    rng = np.random.default_rng(0)
    z = rng.standard_normal((500, 7)).astype(np.float32)
    z[:, 6] = z[:, 0] + z[:, 1]  # a dependent column: the minimum-norm solution still fits
    truth = rng.standard_normal((7, 3))
    targets = z @ truth + np.array([1.0, -2.0, 0.5])
    w = least_squares_coefficients(z, targets)
    assert np.allclose(np.hstack([z, np.ones((500, 1))]) @ w, targets, atol=1e-4)


def test_default_fit_is_the_feature_span_eigenmap_without_steps(tmp_path):
    from graph_eigen import GraphEigen
    from graph_eigen.data import load_dataset
    from graph_eigen.evaluate.baselines import feature_span_eigenmap
    from graph_eigen.evaluate.spectral import subspace_distance
    from graph_eigen.runs.inputs import run_operator

    graph = load_dataset(SBM)
    model = GraphEigen(dim=6, run_dir=str(tmp_path / "run")).fit(graph)
    assert model.config_.fit == "auto" and model.config_.layers == 1
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 1 and records[0]["fit"] == "closed_form" and records[0]["relative_error"] < 1e-3
    span = feature_span_eigenmap(run_operator(model.config_, graph), 6)
    assert subspace_distance(model.embedding_, span) < 1e-4
    loaded = GraphEigen.load(tmp_path / "run")  # a checkpoint was written: it loads and embeds alike
    assert np.allclose(loaded.transform(graph), model.embedding_, atol=1e-4)


def test_fit_choices_and_refusals(tmp_path, capsys):
    from graph_eigen.training.closed_form import uses_closed_form

    base = dict(objective="basis", batch_operator="feature_span", encoder="sign", layers=1)
    assert uses_closed_form(TrainConfig(**base, fit="auto"))
    assert not uses_closed_form(TrainConfig(**{**base, "layers": 2}, fit="auto"))  # an MLP takes steps
    assert not uses_closed_form(TrainConfig(**{**base, "objective": "neuralef"}, fit="auto"))
    with pytest.raises(ConfigError, match="closed_form needs BASiS"):
        uses_closed_form(TrainConfig(**{**base, "encoder": "sage"}, fit="closed_form"))
    with pytest.raises(ConfigError, match="unknown `fit`"):
        TrainConfig(fit="fast").validate()
    run = tmp_path / "run"
    assert main(["train", "--dataset", SBM, "--dim", "4", "--layers", "2", "--epochs", "1", "--out", str(run),
                 "--no-progress"]) == 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert "loss" in records[0] and "fit" not in records[0]  # --layers 2: gradient steps
    assert main(["train", "--dataset", SBM, "--dim", "4", "--fit", "closed_form", "--encoder", "sage",
                 "--out", str(tmp_path / "bad"), "--no-progress"]) == 2
    assert "closed_form needs BASiS" in capsys.readouterr().err


def test_featureless_small_graph_gets_its_exact_eigenmap_without_steps_or_folders(tmp_path, monkeypatch):
    """Issue 23.30: a featureless 100-node graph took 14,000 steps; and a fit leaves no folder."""
    import tempfile

    from graph_eigen import GraphEigen, exact_eigenpairs
    from graph_eigen.data import load_dataset
    from graph_eigen.evaluate.spectral import subspace_distance

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    graph = load_dataset("sbm:n=100,classes=2,avg_degree=8,features=0,seed=0")
    model = GraphEigen(dim=8).fit(graph)
    assert (model.config_.encoder, model.config_.objective) == ("table", "basis")
    assert subspace_distance(model.embedding_, exact_eigenpairs(graph, 8).vectors) < 1e-8
    assert list(tmp_path.iterdir()) == []  # fit in memory: nothing written


def test_api_fit_on_a_small_graph_with_features_works_as_the_cli_does(tmp_path):
    """Issue 24: GraphEigen().fit works on a 100-node graph with features (anchors follow the size)."""
    from graph_eigen import GraphEigen
    from graph_eigen.data import load_dataset

    graph = load_dataset("sbm:n=100,classes=2,avg_degree=8,features=6,seed=0")
    model = GraphEigen(dim=4).fit(graph)
    assert model.embedding_.shape == (100, 4) and model.config_.anchors == 50
    assert main(["train", "--dataset", "sbm:n=100,classes=2,avg_degree=8,features=6,seed=0", "--dim", "4",
                 "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert load_config(tmp_path / "run").to_dict() == {**model.config_.to_dict(),
                                                            "dataset": load_config(tmp_path / "run").dataset}
    assert np.allclose(np.load(tmp_path / "run" / "embeddings.npy"), model.embedding_, atol=1e-5)


def test_clone_and_params_follow_the_constructor():
    from sklearn.base import clone

    from graph_eigen import GraphEigen

    model = GraphEigen(dim=8, options={"layers": 2})
    copy = clone(model)
    assert copy.get_params() == model.get_params() and copy is not model
    assert set(model.get_params()) == {"dim", "objective", "encoder", "epochs", "lr", "batch_size", "seed",
                                       "device", "options", "run_dir", "progress"}
    with pytest.raises(ConfigError, match="unknown parameter"):
        model.set_params(depth=3)
