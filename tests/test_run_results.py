"""Results record what they judged and never replace a run's own results with another judgement."""
import json

import numpy as np

from graph_eigen.cli.main import main

SBM = "sbm:n=300,classes=3,avg_degree=10,features=6,seed=0"
OTHER = "sbm:n=300,classes=3,avg_degree=10,features=6,seed=1"


def _train(tmp_path, *extra):
    run = tmp_path / "run"
    assert main(["train", "--dataset", SBM, "--dim", "3", "--epochs", "1", "--out", str(run), "--no-progress",
                 *extra]) == 0
    return run


def test_judging_another_embedding_or_dataset_leaves_the_runs_results(tmp_path, capsys):
    """Issue 23.4."""
    run = _train(tmp_path)
    assert main(["eval", str(run)]) == 0
    assert main(["probe", str(run), "--seeds", "1"]) == 0
    own_eval, own_probe = (run / "eval.json").read_bytes(), (run / "probe.json").read_bytes()
    assert json.loads(own_eval)["embedding"] == str((run / "embeddings.npy").resolve())
    assert json.loads(own_probe)["dataset"] == SBM
    other = tmp_path / "other.npy"
    np.save(other, np.random.default_rng(0).standard_normal((300, 3)).astype(np.float32))
    assert main(["eval", str(run), "--embedding", str(other)]) == 0
    assert json.loads((tmp_path / "other.npy.eval.json").read_text())["embedding"] == str(other.resolve())
    capsys.readouterr()
    assert main(["eval", str(run), "--dataset", OTHER]) == 2
    assert main(["probe", str(run), "--dataset", OTHER]) == 2
    assert "belongs to its dataset" in capsys.readouterr().err
    assert (run / "eval.json").read_bytes() == own_eval and (run / "probe.json").read_bytes() == own_probe


def test_train_nodes_in_any_order_give_rows_in_id_order(tmp_path):
    """Issue 23.6: row i is the i-th smallest training id, and the sidecar says so."""
    perm = np.random.default_rng(2).permutation(300)[:200]
    np.save(tmp_path / "perm.npy", perm)
    np.save(tmp_path / "sorted.npy", np.sort(perm))
    a = _train(tmp_path, "--train-nodes", str(tmp_path / "perm.npy"))
    b = tmp_path / "sorted_run"
    assert main(["train", "--dataset", SBM, "--dim", "3", "--epochs", "1", "--out", str(b), "--no-progress",
                 "--train-nodes", str(tmp_path / "sorted.npy")]) == 0
    assert np.array_equal(np.load(a / "embeddings.npy"), np.load(b / "embeddings.npy"))
    assert "sorted" in json.loads((a / "embeddings.npy.json").read_text())["node_ids"]
