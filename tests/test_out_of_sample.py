"""Out-of-sample embedding: a model trained on part of a graph embeds the whole graph."""
import json

import numpy as np

from graph_eigen.cli import main

SBM = "sbm:n=600,classes=3,avg_degree=10,features=8,seed=0"


def test_model_trained_on_half_embeds_the_full_graph(tmp_path, capsys):
    half = np.sort(np.random.default_rng(0).permutation(600)[:300])
    np.save(tmp_path / "half.npy", half)
    run = tmp_path / "run"
    assert main(["train", "--dataset", SBM, "--objective", "basis", "--encoder", "mlp", "--dim", "3",
                 "--hidden", "16", "--epochs", "2", "--batch-size", "64", "--fanouts", "3", "--anchors", "32",
                 "--train-nodes", str(tmp_path / "half.npy"), "--out", str(run), "--no-progress"]) == 0
    trained = np.load(run / "embeddings.npy")
    assert trained.shape == (300, 3)
    assert main(["embed", str(run), "--dataset", SBM, "--out", str(tmp_path / "full.npy")]) == 0
    full = np.load(tmp_path / "full.npy")
    assert full.shape == (600, 3) and np.isfinite(full).all()
    # an MLP reads only node features: the training nodes keep their rows exactly
    assert np.allclose(full[half], trained, atol=1e-6)
    sidecar = json.loads((tmp_path / "full.npy.json").read_text())
    assert sidecar["nodes"] == 600


def test_seed_nodes_keep_the_whole_graph_as_operator(tmp_path, monkeypatch):
    # seeds come only from the given nodes; the run still covers (and exports) the whole graph
    from graph_eigen import sampling

    half = np.sort(np.random.default_rng(1).permutation(600)[:300])
    np.save(tmp_path / "half.npy", half)
    seen = []
    original = sampling.BatchSampler.sample

    def spy(self, seeds):
        seen.append(seeds.clone())
        return original(self, seeds)

    monkeypatch.setattr(sampling.BatchSampler, "sample", spy)
    run = tmp_path / "run"
    assert main(["train", "--dataset", SBM, "--objective", "neuralef", "--estimator", "running",
                 "--encoder", "mlp", "--dim", "3", "--hidden", "16", "--epochs", "2", "--batch-size", "64",
                 "--fanouts", "3", "--seed-nodes", str(tmp_path / "half.npy"), "--out", str(run),
                 "--no-progress"]) == 0
    drawn = np.unique(np.concatenate([s.numpy() for s in seen]))
    assert set(drawn) == set(half)  # two epochs over the half, nothing else
    assert np.load(run / "embeddings.npy").shape == (600, 3)
    assert json.loads((run / "config.json").read_text())["seed_nodes"] == str(tmp_path / "half.npy")


def test_bad_seed_nodes_are_refused(tmp_path, capsys):
    np.save(tmp_path / "out_of_range.npy", np.array([0, 5, 600]))
    np.save(tmp_path / "floats.npy", np.array([0.5, 1.0]))
    base = ["train", "--dataset", SBM, "--encoder", "mlp", "--dim", "3", "--epochs", "1", "--no-progress"]
    for name, message in [("out_of_range.npy", "outside [0, 600)"), ("floats.npy", "integer node ids"),
                          ("missing.npy", "cannot read --seed-nodes")]:
        assert main(base + ["--objective", "basis", "--seed-nodes", str(tmp_path / name),
                            "--out", str(tmp_path / name[:-4])]) == 2
        assert message in capsys.readouterr().err
    assert main(base + ["--objective", "neuralef", "--seed-nodes", str(tmp_path / "floats.npy"),
                        "--out", str(tmp_path / "bank")]) == 2
    assert "bank estimator" in capsys.readouterr().err
    assert not (tmp_path / "bank").exists() and not (tmp_path / "out_of_range").exists()
