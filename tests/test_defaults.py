"""Every encoder works with the defaults it gets (presets.py)."""
import json

import numpy as np
import pytest

from graph_eigen.cli.main import main
from graph_eigen.data import load_dataset
from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.runs.presets import TABLE_STEPS, recommended_config
from graph_eigen.spectral.eigsolve import exact_eigenpairs


def test_neuralef_with_a_table_gets_the_bank_estimator_and_enough_steps():
    cfg = recommended_config("CS", 18_333, objective="neuralef", encoder="table")
    assert (cfg.estimator, cfg.batch_size, cfg.fanouts, cfg.lr) == ("bank", 2048, [-1], 0.05)
    assert cfg.epochs * -(-18_333 // 2048) >= TABLE_STEPS
    assert recommended_config("CS", 18_333, encoder="table").objective == "basis"  # BASiS keeps its own


@pytest.mark.realdata
@pytest.mark.slow
def test_table_encoder_with_the_defaults_converges_on_cs(shared_root, tmp_path, capsys):
    run = tmp_path / "run"
    # on the graph's own operator (the defaults add feature kNN graphs), whose K = 9 has a wide gap
    assert main(["train", "--dataset", "CS", "--root", str(shared_root), "--objective", "neuralef",
                 "--encoder", "table", "--dim", "9", "--feature-knn", "0", "--out", str(run), "--no-progress"]) == 0
    emb = np.load(run / "embeddings.npy")
    exact = exact_eigenpairs(load_dataset("CS", str(shared_root)), 9).vectors
    assert subspace_distance(emb, exact) <= 0.05
    assert json.loads((run / "config.json").read_text())["estimator"] == "bank"
