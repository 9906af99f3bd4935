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
