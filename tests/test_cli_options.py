"""`graph-eigen train` options: grouped, each with help and default; --config files."""
import json

import pytest

from graph_eigen.cli.main import build_parser, main

SBM = "sbm:n=400,classes=3,avg_degree=8,features=8,seed=0"


def _train_parser():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices["train"]


def test_every_train_option_has_help_and_a_group():
    parser = _train_parser()
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert len(options) > 40
    assert all(a.help for a in options), [a.dest for a in options if not a.help]
    titles = {g.title for g in parser._action_groups}
    assert {"data", "encoder", "objective", "optimization", "run"} <= titles
    lr = next(a for a in options if a.dest == "lr")
    assert "default: 0.01" in lr.help
    batch = next(a for a in options if a.dest == "batch_size")
    assert "by the graph's size" in batch.help  # the one default that follows the size (presets.py)


def test_config_file_sets_options_and_flags_override_it(tmp_path):
    cfg = tmp_path / "options.json"
    cfg.write_text(json.dumps({"dataset": SBM, "encoder": "mlp", "dim": 3, "epochs": 1, "anchors": 32}))
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "a"), "--dim", "2", "--no-progress"]) == 0
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert (saved["encoder"], saved["dim"], saved["dataset"]) == ("mlp", 2, SBM)
    # an earlier run's config.json works as --config
    assert main(["train", "--config", str(tmp_path / "a" / "config.json"), "--out", str(tmp_path / "b"),
                 "--no-progress"]) == 0
    again = json.loads((tmp_path / "b" / "config.json").read_text())
    assert {k: v for k, v in again.items() if k != "root"} == {k: v for k, v in saved.items() if k != "root"}


@pytest.mark.parametrize("content, message", [
    ('{"dataset": "x", "dimension": 3}', "unknown option"),
    ("[1, 2]", "mapping of options"),
    ("{not json", "not valid JSON"),
])
def test_bad_config_files_are_one_line_errors(tmp_path, capsys, content, message):
    cfg = tmp_path / "options.json"
    cfg.write_text(content)
    assert main(["train", "--config", str(cfg), "--dataset", SBM, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()
