"""The command line: JSON output, exact eigenvectors, one-line errors with exit code 2."""
import json
import subprocess
import sys

import numpy as np
import pytest

from graph_eigen.cli.main import main

SBM = "sbm:n=600,classes=3,avg_degree=12,features=8,seed=1"


def test_info_prints_json(capsys):
    assert main(["info", "--dataset", SBM]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["nodes"] == 600 and info["features"] == 8 and info["classes"] == 3
    assert {"edges", "components"} <= info.keys()


def test_exact_writes_float32_eigenvectors(tmp_path, capsys):
    out = tmp_path / "vecs.npy"
    assert main(["exact", "--dataset", SBM, "--dim", "4", "--out", str(out)]) == 0
    vecs = np.load(out)
    assert vecs.shape == (600, 4) and vecs.dtype == np.float32
    meta = json.loads((tmp_path / "vecs.npy.json").read_text())
    assert meta["k"] == 4 and meta["operator"]["feature_knn"] == 10  # train's default operator


def test_exact_and_train_default_to_the_same_operator(tmp_path, capsys):
    """Issue 23.13b: `exact` solves the operator `train` learns, and both files name it."""
    from graph_eigen.evaluate.spectral import subspace_distance

    assert main(["exact", "--dataset", SBM, "--dim", "3", "--out", str(tmp_path / "e.npy")]) == 0
    assert main(["train", "--dataset", SBM, "--dim", "3", "--objective", "basis", "--batch-operator", "global",
                 "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert main(["eval", str(tmp_path / "run")]) == 0
    report = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert report["operator"] == json.loads((tmp_path / "e.npy.json").read_text())["operator"]
    assert subspace_distance(np.load(tmp_path / "run" / "embeddings.npy"), np.load(tmp_path / "e.npy")) < 0.5
    assert main(["exact", "--dataset", SBM, "--dim", "3", "--out", str(tmp_path / "g.npy"), "--feature-knn", "0"]) == 0
    assert json.loads((tmp_path / "g.npy.json").read_text())["operator"] == "the graph alone"


@pytest.mark.parametrize("args, message", [
    (["info", "--dataset", "NoSuchGraph"], "unknown dataset 'NoSuchGraph'"),
    (["info", "--dataset", "Cora", "--root", "/no/such/folder"], "does not exist"),
    (["exact", "--dataset", SBM, "--dim", "600", "--out", "x.npy"], "must be smaller than the number of nodes"),
    (["exact", "--dataset", SBM, "--dim", "0", "--out", "x.npy"], "positive integer"),
])
def test_cli_errors_are_one_line_exit_2(args, message, tmp_path):
    result = subprocess.run([sys.executable, "-m", "graph_eigen", *args], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_library_errors_name_parameters_and_the_cli_shows_flags(tmp_path, capsys):
    from graph_eigen.config import TrainConfig
    from graph_eigen.errors import ConfigError

    with pytest.raises(ConfigError) as info:  # a Python caller never typed --dim
        TrainConfig(dim=0).validate()
    assert "`dim`" in str(info.value) and "--dim" not in str(info.value)
    code = main(["train", "--dataset", "sbm:n=300,classes=3,avg_degree=10,features=8,seed=0", "--dim", "0",
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "--dim must be positive" in err and "`dim`" not in err


def test_flag_message_translates_options_only():
    from graph_eigen.cli.main import build_parser
    from graph_eigen.cli.parsing import command_flags, flag_message

    parser = build_parser()
    eval_flags = command_flags(parser, "eval")
    assert flag_message("`nodes` has ids outside [0, 9); `feature_knn_source` must be raw", eval_flags) == \
        "--nodes has ids outside [0, 9); --feature-knn-source must be raw"
    # a word that is no option, and a command in backticks, stay as they are
    assert flag_message("`foo` is not `dim`-like; run `graph-eigen embed RUN` first") == \
        "`foo` is not --dim-like; run `graph-eigen embed RUN` first"
    assert flag_message("`nodes`") == "`nodes`"  # not an option of train, and no flags given
    assert command_flags(parser, "train")["stop_grad"] == "--no-stop-grad"
    assert "help" not in eval_flags


@pytest.mark.realdata
def test_info_on_real_datasets(shared_root, capsys):
    for name, nodes in [("Photo", 7650), ("CS", 18333)]:
        assert main(["info", "--dataset", name, "--root", str(shared_root)]) == 0
        assert json.loads(capsys.readouterr().out)["nodes"] == nodes


@pytest.mark.realdata
@pytest.mark.slow
def test_exact_on_cs_matches_independent_scipy(shared_root, tmp_path):
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    from graph_eigen.data import load_dataset
    from graph_eigen.evaluate.spectral import subspace_distance

    out = tmp_path / "cs9.npy"
    assert main(["exact", "--dataset", "CS", "--root", str(shared_root), "--dim", "9", "--out", str(out),
                 "--feature-knn", "0"]) == 0
    g = load_dataset("CS", str(shared_root))
    # independent: eigsh on L_sym (smallest algebraic) built here from the edge list
    ei = g.edge_index.numpy()
    a = sp.csr_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(g.num_nodes,) * 2)
    d = np.asarray(a.sum(1)).ravel() ** -0.5
    lap = sp.identity(g.num_nodes) - sp.diags(d) @ a @ sp.diags(d)
    _, ref = spla.eigsh(lap, k=9, sigma=-1e-3, which="LM")
    assert subspace_distance(np.load(out), ref) < 1e-3
