"""Hostile but fair use of the CLI: bad inputs, folders that are not runs, concurrent writers,
damaged and crafted checkpoints.

Every bad input exits with code 2 and exactly one line on stderr (no traceback), and leaves the
bytes of every file that existed before unchanged. The data-loss scenarios (`--overwrite`,
`demo --out`, a second writer, `embed --dataset`) are tests of their own.
"""
import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from graph_eigen.cli.main import main
from graph_eigen.data import load_dataset
from graph_eigen.errors import CheckpointError, TrainingDivergedError
from graph_eigen.evaluate.report import spectral_report
from graph_eigen.graph.core import Graph
from graph_eigen.runs.checkpoint import CHECKPOINT, load_checkpoint, load_config, save_checkpoint
from graph_eigen.runs.folder import LOCK, RunLock
from graph_eigen.runs.recorder import train
from test_reliability import slow_train_script

ROOT_USER = os.name == "posix" and os.geteuid() == 0


def two_components_csv(folder: Path) -> Path:
    """A 45-node edge list of two components (25 + 20 nodes) with 6 features and 3 classes."""
    edges = []
    for start, size in ((0, 25), (25, 20)):
        for i in range(size):
            edges += [(start + i, start + (i + 1) % size), (start + i, start + (i + 3) % size)]
    path = folder / "g.csv"
    path.write_text("src,dst\n" + "".join(f"{a},{b}\n" for a, b in edges))
    rng = np.random.default_rng(0)
    np.save(folder / "g.features.npy", rng.normal(size=(45, 6)).astype(np.float32))
    np.save(folder / "g.labels.npy", np.arange(45) % 3)
    return path


def run_cli(args, capsys) -> tuple[int, str]:
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse errors
        code = exc.code
    return code, capsys.readouterr().err


def assert_one_line(code: int, err: str, message: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("graph-eigen: error: "), lines[0]
    assert message in lines[0], lines[0]


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` and its bytes."""
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    w = tmp_path_factory.mktemp("hostile")
    csv = two_components_csv(w)
    run = w / "run"
    assert main(["train", "--dataset", f"file:{csv}", "--encoder", "mlp", "--layers", "2", "--hidden", "16", "--anchors", "8",
                 "--dim", "3", "--epochs", "2", "--no-progress", "--out", str(run)]) == 0
    # PyG raw files that are not what they claim to be
    raw = w / "bad_root" / "Cora" / "raw"
    raw.mkdir(parents=True)
    for part in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index"):
        (raw / f"ind.cora.{part}").write_bytes(b"\x80\x04garbage" if part != "test.index" else b"1\nx\n")
    (w / "s.csv").write_text("0,1\n1,2\n2,0\n")
    np.save(w / "s.labels.npy", np.array([True, False, True]))  # class names (strings) are accepted; booleans are not ids
    (w / "huge.csv").write_text("0,1\n1,100000000000\n")
    np.save(w / "emb_full.npy", np.zeros((45, 3), dtype=np.float32))
    (w / "emb_truncated.npy").write_bytes((w / "emb_full.npy").read_bytes()[:100])
    np.save(w / "emb_object.npy", np.array([[{"a": 1}]] * 45, dtype=object), allow_pickle=True)
    (w / "emb_text.npy").write_text("0.1 0.2 0.3\n" * 45)
    np.save(w / "emb_strings.npy", np.full((45, 3), "x"))
    np.save(w / "nodes_out_of_range.npy", np.arange(40, 50))
    np.save(w / "nodes_negative.npy", np.array([-1, 0, 1, 2, 3, 4]))
    np.save(w / "nodes_duplicates.npy", np.array([0, 1, 2, 3, 3, 4]))
    np.save(w / "nodes_float.npy", np.arange(10, dtype=np.float64))
    np.save(w / "nodes_2d.npy", np.arange(10).reshape(2, 5))
    np.save(w / "nodes_few.npy", np.arange(3))
    for name, edit in [("cfg_dim_abc", lambda c: {**c, "dim": "abc"}),
                       ("cfg_hidden_null", lambda c: {**c, "hidden": None})]:
        shutil.copytree(run, w / name)
        (w / name / "config.json").write_text(json.dumps(edit(json.loads((run / "config.json").read_text()))))
    shutil.copytree(run, w / "flipped")
    data = bytearray((run / CHECKPOINT).read_bytes())
    middle = len(data) // 2
    data[middle:middle + 100] = bytes(b ^ 0xFF for b in data[middle:middle + 100])
    (w / "flipped" / CHECKPOINT).write_bytes(bytes(data))
    (w / "thesis").mkdir()
    (w / "thesis" / "thesis.txt").write_text("four years of work")
    (w / "thesis" / "figures").mkdir()
    (w / "thesis" / "figures" / "f1.txt").write_text("figure")
    return w


TRAIN = ["train", "--dataset", "file:{w}/g.csv", "--encoder", "mlp", "--layers", "2", "--hidden", "16", "--anchors", "8",
         "--dim", "3", "--epochs", "1", "--no-progress"]
NEW = ["--out", "{w}/new"]
BAD_INPUTS = [  # (arguments, part of the one-line message); {w} is the `work` folder
    (["info", "--dataset", "Cora"], "cannot download 'Cora'"),
    (["info", "--dataset", "Cora", "--root", "{w}/bad_root"], "raw files look corrupt"),
    (["info", "--dataset", "file:{w}/s.csv"], "must hold numbers"),
    (["info", "--dataset", "file:{w}/huge.csv"], "number the nodes 0..n-1"),
    ([*TRAIN, *NEW, "--lr", "nan"], "--lr must be positive"),
    ([*TRAIN, *NEW, "--lr", "inf"], "--lr must be positive"),
    ([*TRAIN, *NEW, "--lr", "1e300"], "--lr must be at most 3.4e+38"),
    ([*TRAIN, *NEW, "--weight-decay", "-1"], "--weight-decay must be a finite number >= 0"),
    ([*TRAIN, *NEW, "--seed", "-1"], "--seed must be an integer >= 0"),
    ([*TRAIN, *NEW, "--hidden", "1e12"], "invalid int value"),
    ([*TRAIN, *NEW, "--hidden", "1000000000000"], "--hidden and --input-dim must be at most"),
    ([*TRAIN, *NEW, "--objective", "basis", "--power", "-2"], "--power must be an integer >= 1"),
    ([*TRAIN, *NEW, "--input-dim", "-5"], "--input-dim must be an integer >= 0"),
    ([*TRAIN, *NEW, "--alpha", "-1"], "--alpha must be a finite number >= 0"),
    ([*TRAIN, *NEW, "--refresh-every", "-1"], "--refresh-every must be an integer >= 0"),
    ([*TRAIN, *NEW, "--bank-every", "0"], "--bank-every must be an integer >= 1"),
    ([*TRAIN, *NEW, "--anchors", "0"], "--anchors must be an integer >= 1"),
    ([*TRAIN, *NEW, "--anchors", "45"], "anchor count must lie in [1, 44]"),
    ([*TRAIN, *NEW, "--target-every", "-1"], "--target-every must be an integer >= 0"),
    ([*TRAIN, *NEW, "--dropout", "nan"], "dropout must lie in [0, 1)"),
    ([*TRAIN, *NEW, "--seed", "99999999999999999999"], "--seed must be smaller than 2**63"),
    ([*TRAIN, *NEW, "--seed-nodes", "{w}/nodes_float.npy"], "1-D array of integer node ids"),
    (["eval", "{w}/run", "--dim", "0"], "--dim must be a positive number"),
    (["eval", "{w}/run", "--dim", "-1"], "--dim must be a positive number"),
    (["embed", "{w}/run", "--out", "{w}/run"], "is a folder"),
    (["probe", "{w}/run", "--label-ratio", "nan"], "label_ratio must be in (0, 1]"),
    (["info", "--dataset", "file:"], "no path given"),
    (["train", "--out", "{w}/new", "--no-progress"], "train needs --dataset"),
    ([*TRAIN, "--out", "{w}/thesis", "--overwrite"], "holds no run (no graph-eigen config.json): refusing"),
    (["demo", "--out", "{w}/thesis"], "holds no run (no graph-eigen config.json): refusing"),
    (["train", "--out", "{w}/run", "--resume", "--dim", "5", "--lr", "0.5", "--no-progress"],
     "these differ: --dim 5 (saved 3), --lr 0.5 (saved 0.01); only --epochs may change"),
    (["train", "--out", "{w}/run", "--resume", "--dataset", "sbm:n=50", "--no-progress"],
     "--dataset sbm:n=50 (saved file:"),
    (["embed", "{w}/run", "--dataset", "sbm:n=45,features=6"], "needs --out"),
    (["embed", "{w}/flipped"], "is damaged: its checksum does not match"),
    (["embed", "{w}/cfg_dim_abc"], "'dim' must be int, got 'abc'"),
    (["eval", "{w}/cfg_hidden_null"], "'hidden' must be int, got None"),
    (["eval", "{w}/run", "--embedding", "{w}/emb_truncated.npy"], "cannot read embedding"),
    (["eval", "{w}/run", "--embedding", "{w}/emb_object.npy"], "cannot read embedding"),
    (["eval", "{w}/run", "--embedding", "{w}/emb_text.npy"], "cannot read embedding"),
    (["eval", "{w}/run", "--embedding", "{w}/emb_strings.npy"], "embedding must hold real numbers"),
    (["probe", "{w}/emb_strings.npy", "--dataset", "file:{w}/g.csv"], "embedding must hold real numbers"),
    (["probe", "{w}/emb_object.npy", "--dataset", "file:{w}/g.csv"], "cannot read embedding"),
    (["eval", "{w}/run", "--nodes", "{w}/nodes_out_of_range.npy"], "--nodes has ids outside [0, 45)"),
    (["eval", "{w}/run", "--nodes", "{w}/nodes_negative.npy"], "--nodes has ids outside [0, 45)"),
    (["eval", "{w}/run", "--nodes", "{w}/nodes_duplicates.npy"], "more than once"),
    (["eval", "{w}/run", "--nodes", "{w}/nodes_float.npy"], "1-D array of integer node ids"),
    (["eval", "{w}/run", "--nodes", "{w}/nodes_2d.npy"], "1-D array of integer node ids"),
    (["eval", "{w}/run", "--nodes", "{w}/nodes_few.npy"], "needs more than 3 rows"),
    (["diagnose-batches", "--dataset", "file:{w}/g.csv", "--dim", "2", "--anchors", "8", "--seed", "-1"],
     "--seed must be a non-negative integer"),
    (["diagnose-batches", "--dataset", "file:{w}/g.csv", "--dim", "2", "--anchors", "8", "--batches", "0"],
     "--batches must be a positive integer"),
    (["diagnose-batches", "--dataset", "sbm:n=60,features=0", "--dim", "2", "--anchors", "8",
      "--operator", "knn"], "--operator knn needs node features"),
]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network and no $GRAPH_EIGEN_DATA: a download fails at once."""
    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.delenv("GRAPH_EIGEN_DATA", raising=False)


@pytest.mark.parametrize("args, message", BAD_INPUTS, ids=[f"{i:02d}-{m[:28]}" for i, (_, m) in enumerate(BAD_INPUTS)])
def test_bad_input_is_one_line_and_changes_nothing(args, message, work, offline, capsys):
    before = snapshot(work)
    code, err = run_cli([a.format(w=work) for a in args], capsys)
    assert_one_line(code, err, message)
    after = snapshot(work)
    assert {p: after.get(p) for p in before} == before, "a file that existed before was changed"
    assert not (work / "new").exists(), "a rejected command must not leave a run folder behind"
    assert not [p for p in after if p not in before], "a rejected command must not write files"


@contextlib.contextmanager
def read_only(folder: Path, monkeypatch):
    """No new entries in ``folder``: chmod 0o500, or for root (who may write anywhere) os.mkdir
    and tempfile.mkstemp refuse to create anything in it."""
    if not ROOT_USER:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    real_mkdir, real_mkstemp = os.mkdir, tempfile.mkstemp

    def refuse_inside(path):
        if Path(path).absolute().parent == folder.absolute():
            raise PermissionError(13, "Permission denied", str(path))

    def mkdir(path, *args, **kwargs):
        refuse_inside(path)
        return real_mkdir(path, *args, **kwargs)

    def mkstemp(*args, dir=None, **kwargs):
        refuse_inside(Path(dir or ".") / "x")
        return real_mkstemp(*args, dir=dir, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "mkdir", mkdir)
        patch.setattr(tempfile, "mkstemp", mkstemp)
        yield


def test_plot_into_read_only_run_is_one_line(work, capsys, monkeypatch):
    run = work / "ro_run"
    shutil.copytree(work / "run", run)
    before = snapshot(run)
    with read_only(run, monkeypatch):
        code, err = run_cli(["plot", run], capsys)
    assert_one_line(code, err, "cannot write")
    assert snapshot(run) == before


# ---------------------------------------------------------------------- data loss (items 1-4)
def test_overwrite_replaces_a_run_only_after_the_new_one_has_a_checkpoint(work, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(work / "run", run)
    (run / "eval.json").write_text("{}")  # a file of the old run only
    old_config = (run / "config.json").read_bytes()
    args = [a.format(w=work) for a in TRAIN]
    assert main([*args, "--out", str(run), "--overwrite", "--seed", "7"]) == 0
    assert json.loads((run / "config.json").read_text())["seed"] == 7 and old_config != (run / "config.json").read_bytes()
    assert not (run / "eval.json").exists()
    assert load_checkpoint(run)["config"]["seed"] == 7  # the new run's checkpoint
    assert np.load(run / "embeddings.npy").shape == (45, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"], "no sibling folder or lock file left"
    assert not (run / LOCK).exists()


def test_overwrite_that_fails_before_its_first_checkpoint_keeps_the_old_run(work, tmp_path, monkeypatch):
    import graph_eigen.runs.recorder as train_module

    run = tmp_path / "run"
    shutil.copytree(work / "run", run)
    before = snapshot(run)

    def diverge(*args, **kwargs):
        raise TrainingDivergedError("stand-in for a diverged first step")

    cfg = load_config(run)
    graph = load_dataset(cfg.dataset)
    monkeypatch.setattr(train_module, "save_checkpoint", diverge)
    with pytest.raises(TrainingDivergedError):
        train(cfg, graph, run, overwrite=True, progress=False)
    assert snapshot(run) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_diverged_overwrite_does_not_claim_a_checkpoint(work, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(work / "run", run)
    before = snapshot(run)
    args = [a.format(w=work) for a in TRAIN]
    code, err = run_cli([*args, "--out", run, "--overwrite", "--optimizer", "sgd", "--lr", "1e30",
                         "--batch-size", "8", "--checkpoint-every", "1000"], capsys)
    assert_one_line(code, err, "non-finite")
    assert "no checkpoint was written and the previous run" in err and "is kept" not in err
    assert snapshot(run) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_overwrite_in_a_read_only_parent_keeps_the_old_run(work, tmp_path, capsys, monkeypatch):
    parent = tmp_path / "parent"
    parent.mkdir()
    run = parent / "run"
    shutil.copytree(work / "run", run)
    before = snapshot(run)
    with read_only(parent, monkeypatch):
        code, err = run_cli([*[a.format(w=work) for a in TRAIN], "--out", run, "--overwrite"], capsys)
    assert_one_line(code, err, "the old run is untouched")
    assert snapshot(run) == before


def test_second_writer_is_refused_while_the_first_runs(work, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(work / "run", run)
    before = snapshot(run)
    args = [a.format(w=work) for a in TRAIN]
    with RunLock(run):  # the first writer, as another process holds it
        (run / LOCK).write_text("4242")  # its pid
        code, err = run_cli([*args, "--out", run, "--overwrite"], capsys)
        assert_one_line(code, err, "is in use by another graph-eigen process (pid 4242)")
        code, err = run_cli(["train", "--out", run, "--resume", "--no-progress"], capsys)
        assert_one_line(code, err, "is in use by another graph-eigen process")
        assert {p: b for p, b in snapshot(run).items() if p.name != LOCK} == before
    assert main(["train", "--out", str(run), "--resume", "--epochs", "3", "--no-progress"]) == 0
    assert load_checkpoint(run)["step"] == 3


SLOW_TRAIN = slow_train_script(0.4)


def test_overwrite_while_another_process_trains_is_refused(work, tmp_path, capsys):
    run = tmp_path / "r"
    args = [a.format(w=work) for a in TRAIN]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen([sys.executable, "-c", SLOW_TRAIN, *args, "--epochs", "8", "--out", str(run)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not (run / CHECKPOINT).exists():
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.05)
        code, err = run_cli([*args, "--epochs", "2", "--out", run, "--overwrite"], capsys)
        assert_one_line(code, err, "is in use by another graph-eigen process (pid ")
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    assert json.loads(out)["run_dir"] == str(run)
    assert load_checkpoint(run)["step"] == 8 and load_config(run).epochs == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_embed_on_another_dataset_needs_out(work, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(work / "run", run)
    before = snapshot(run)
    other = "sbm:n=45,classes=3,features=6,seed=2"
    code, err = run_cli(["embed", run, "--dataset", other], capsys)
    assert_one_line(code, err, "needs --out")
    assert snapshot(run) == before
    assert main(["embed", str(run), "--dataset", other, "--out", str(tmp_path / "other.npy")]) == 0
    assert snapshot(run) == before and np.load(tmp_path / "other.npy").shape == (45, 3)


# ---------------------------------------------------------------------- silently wrong results (5-8, 10)
def test_eval_reports_the_eigengap_and_an_undetermined_subspace(capsys):
    ring = torch.stack([torch.arange(10), (torch.arange(10) + 1) % 10])
    three = Graph.from_edges(torch.cat([ring, ring + 10, ring + 20], 1), num_nodes=30)  # eigenvalue 0, 3 times
    emb = np.random.default_rng(0).normal(size=(30, 2))
    report = spectral_report(emb, three, clustering=False)
    assert report["eigengap"] == pytest.approx(0.0, abs=1e-8)
    assert report["subspace_determined"] is False and "not determined" in report["warning"]
    report = spectral_report(np.random.default_rng(0).normal(size=(30, 3)), three, clustering=False)
    assert report["eigengap"] > 0.1 and report["subspace_determined"] and "warning" not in report


def test_damaged_checkpoint_is_refused_and_an_intact_one_loads(tmp_path):
    state = {"encoder": {"w": torch.arange(5000, dtype=torch.float32)}, "step": 3}
    save_checkpoint(tmp_path, state)
    assert torch.equal(load_checkpoint(tmp_path)["encoder"]["w"], state["encoder"]["w"])
    data = bytearray((tmp_path / CHECKPOINT).read_bytes())
    middle = len(data) // 2
    data[middle:middle + 100] = bytes(b ^ 0xFF for b in data[middle:middle + 100])
    (tmp_path / CHECKPOINT).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="is damaged"):
        load_checkpoint(tmp_path)


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {_Payload.marker}",))


def test_crafted_checkpoint_runs_no_code(tmp_path):
    _Payload.marker = tmp_path / "pwned"
    torch.save({"encoder": {}, "evil": _Payload()}, tmp_path / CHECKPOINT)
    with pytest.raises(CheckpointError, match="refusing to load it"):
        load_checkpoint(tmp_path)
    assert not _Payload.marker.exists()


def test_resume_without_checkpoint_says_it_starts_again(work, tmp_path, caplog):
    run = tmp_path / "run"
    shutil.copytree(work / "run", run)
    (run / CHECKPOINT).unlink()
    assert main(["train", "--out", str(run), "--resume", "--no-progress"]) == 0
    assert "training starts again from step 0" in caplog.text
    assert load_checkpoint(run)["step"] == 2


def test_official_split_reports_one_deterministic_fit(work):
    from graph_eigen.evaluate.probe import linear_probe

    graph = load_dataset(f"file:{work}/g.csv")
    perm = np.random.default_rng(0).permutation(45)
    graph.split = {"train": torch.from_numpy(perm[:15]), "valid": torch.from_numpy(perm[15:25]),
                   "test": torch.from_numpy(perm[25:])}
    emb = graph.x.numpy()
    result = linear_probe(emb, graph, split="official", seeds=3)
    assert len(result["per_seed"]) == 1 and result["accuracy_std"] is None and "deterministic" in result["note"]
    fewer = linear_probe(emb, graph, split="official", seeds=3, label_ratio=0.5)  # subsets differ per seed
    assert len(fewer["per_seed"]) == 3 and fewer["accuracy_std"] is not None


# ---------------------------------------------------------------------- also (9, 12, 13, 15)
def test_small_graph_gets_fewer_anchors_by_default(work, tmp_path, caplog):
    run = tmp_path / "run"
    args = ["train", "--dataset", f"file:{work}/g.csv", "--encoder", "mlp", "--hidden", "16", "--dim", "3",
            "--epochs", "1", "--no-progress", "--out", str(run)]
    assert main(args) == 0  # the presets give half the graph's 45 nodes as anchors
    assert json.loads((run / "config.json").read_text())["anchors"] == 22


def test_config_stores_absolute_paths_and_files_share_one_mode(work, tmp_path, monkeypatch):
    for name in ("g.csv", "g.features.npy", "g.labels.npy"):
        shutil.copy(work / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "nodes.npy", np.arange(30))
    args = [a.format(w=work) for a in TRAIN]
    assert main([*args, "--dataset", "file:g.csv", "--out", "run", "--train-nodes", "nodes.npy"]) == 0
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["train_nodes"] == str(tmp_path / "nodes.npy") and cfg["dataset"] == f"file:{tmp_path}/g.csv"
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "run").iterdir()}
    assert len(set(modes.values())) == 1, modes
    monkeypatch.chdir(work)  # eval from another folder finds the nodes file
    assert main(["eval", str(tmp_path / "run")]) == 0


def test_embed_removes_temporary_files_of_a_killed_export(work, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(work / "run", run)
    (run / ".embeddings.npy.x1y2.tmp").write_bytes(b"")
    (run / ".embeddings.npy.json.x1y2.tmp").write_bytes(b"")
    assert main(["embed", str(run)]) == 0
    assert not list(run.glob(".*.tmp"))


def test_plot_colours_more_than_twenty_classes_distinctly():
    from graph_eigen.evaluate.plots import class_colormap

    for classes in (5, 20, 47, 100):
        cmap = class_colormap(classes)
        colours = {tuple(np.round(cmap(i), 4)) for i in range(classes)}
        assert cmap.N >= classes and len(colours) == classes
