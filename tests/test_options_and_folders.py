"""Options enter with their types checked and coerced; a run folder never loses a user's file."""
import json

import numpy as np
import pytest

from graph_eigen.cli.main import main
from graph_eigen.config import TrainConfig
from graph_eigen.errors import ConfigError
from graph_eigen.runs.checkpoint import load_config

SBM = "sbm:n=200,classes=2,avg_degree=8,features=4,seed=0"
TRAIN = ["train", "--dataset", SBM, "--dim", "2", "--epochs", "1", "--no-progress"]


def test_overwrite_refuses_a_folder_with_files_a_run_does_not_write(tmp_path, capsys):
    """Issue 23.1: a folder with a user's config.json and other files is never emptied."""
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "config.json").write_text('{"mine": 1}')
    (mine / "precious.txt").write_text("keep me")
    (mine / "sub" / "data.csv").write_text("0,1\n")
    assert main([*TRAIN, "--out", str(mine), "--overwrite"]) == 2
    assert "holds no run" in capsys.readouterr().err
    run = tmp_path / "run"
    assert main([*TRAIN, "--out", str(run)]) == 0
    (run / "precious.txt").write_text("keep me")
    assert main([*TRAIN, "--out", str(run), "--overwrite"]) == 2
    assert "precious.txt" in capsys.readouterr().err
    assert (run / "precious.txt").read_text() == "keep me"
    assert json.loads((mine / "config.json").read_text()) == {"mine": 1}
    assert (mine / "sub" / "data.csv").read_text() == "0,1\n"
    (run / "precious.txt").unlink()
    assert main([*TRAIN, "--out", str(run), "--overwrite"]) == 0  # a run's own files: replaced


@pytest.mark.parametrize("options, expected", [
    ({"dim": np.int64(4)}, {"dim": 4}), ({"epochs": 2.0}, {"epochs": 2}), ({"fanouts": [10.0, 5.0]}, {"fanouts": [10, 5]}),
    ({"lr": "1e-3"}, {"lr": 1e-3}), ({"epochs": "1"}, {"epochs": 1}), ({"fanouts": "10,5"}, {"fanouts": [10, 5]}),
    ({"ransac": "yes"}, {"ransac": True}), ({"seed": np.int64(3)}, {"seed": 3}), ({"dim": "4"}, {"dim": 4}),
])
def test_options_are_coerced_to_their_types(options, expected):
    """Issue 23.3, 15, 16: what enters as numpy scalars, whole floats or YAML strings trains and loads."""
    cfg = TrainConfig.from_dict(options)
    for name, value in expected.items():
        assert getattr(cfg, name) == value and type(getattr(cfg, name)) is type(value)


@pytest.mark.parametrize("options, message", [
    ({"epochs": 0.5}, "`epochs` must be an integer, got 0.5"), ({"dim": 4.5}, "`dim` must be an integer"),
    ({"lr": "fast"}, "`lr` must be a number"), ({"fanouts": "10,x"}, "`fanouts` must be an integer"),
    ({"ransac": "maybe"}, "`ransac` must be true or false"), ({"objective": 3}, "`objective` must be a string"),
])
def test_options_of_the_wrong_type_are_one_config_error(options, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(options)


def test_api_options_that_train_also_load(tmp_path):
    from graph_eigen import GraphEigen
    from graph_eigen.data import load_dataset

    graph = load_dataset(SBM)
    model = GraphEigen(dim=np.int64(2), epochs=1.0, seed=np.int64(3), options={"fanouts": [4.0, 2.0]}).fit(graph)
    loaded = GraphEigen.load(model.save(tmp_path / "saved"))
    assert loaded.config_.dim == 2 and loaded.config_.fanouts == [4, 2]
    assert np.allclose(loaded.transform(graph), model.embedding_, atol=1e-5)
    with pytest.raises(ConfigError, match="`options` must be a dict"):
        GraphEigen(options=[1, 2]).fit(graph)
    with pytest.raises(ConfigError, match="`dim` must be an integer"):
        GraphEigen(dim=4.5).fit(graph)


@pytest.mark.parametrize("text, suffix", [("lr: 1e-3\nepochs: '1'\ndim: 2.0\nfanouts: '4,2'\nransac: 'yes'\n", ".yaml"),
                                          ('{"epochs": "1", "dim": 2.0}', ".json")])
def test_config_files_with_loose_types_train(text, suffix, tmp_path):
    path = tmp_path / f"options{suffix}"
    path.write_text(text)
    run = tmp_path / "run"
    assert main(["train", "--dataset", SBM, "--config", str(path), "--out", str(run), "--no-progress"]) == 0
    saved = load_config(run)
    assert saved.epochs == 1 and saved.dim == 2


def test_config_file_with_a_bad_value_is_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("epochs: 0.5\n")
    assert main(["train", "--dataset", SBM, "--config", str(path), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "epochs must be an integer, got 0.5" in err and "Traceback" not in err
