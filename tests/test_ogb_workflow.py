"""The ogbn-products workflow end to end, on Cora written in OGB's on-disk layout."""
import builtins
import json

import pytest

from graph_eigen.cli.main import main
from graph_eigen.data import load_dataset
from graph_eigen.data.ogb_layout import write_ogb_layout


@pytest.mark.realdata
@pytest.mark.slow
def test_train_embed_probe_on_ogb_layout(shared_root, tmp_path, monkeypatch, capsys):
    def no_prompt(*_):
        raise AssertionError("ogb asked an interactive question")

    monkeypatch.setattr(builtins, "input", no_prompt)
    cora = load_dataset("Cora", str(shared_root))
    write_ogb_layout(cora, str(tmp_path / "ogb"), name="ogbn-products", seed=0)
    root, run = str(tmp_path / "ogb"), str(tmp_path / "run")
    assert main(["train", "--dataset", "ogbn-products", "--root", root, "--objective", "basis", "--encoder", "mlp",
                 "--dim", "8", "--epochs", "2", "--batch-size", "512", "--fanouts", "5", "--input-dim", "64",
                 "--out", run, "--no-progress"]) == 0
    assert main(["embed", run, "--out", str(tmp_path / "emb.npy")]) == 0
    capsys.readouterr()
    assert main(["probe", run, "--seeds", "1"]) == 0
    probe = json.loads((tmp_path / "run" / "probe.json").read_text())
    assert probe["split"] == "official"
    assert probe["test_size"] == len(load_dataset("ogbn-products", root).split["test"])
    assert 0.0 <= probe["accuracy_mean"] <= 100.0
