"""Every benchmark script parses --help and imports the package the ordinary way (no training)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py"))


def test_scripts_found():
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help(script):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_path_hacks_or_raw_argv(script):
    text = script.read_text()
    assert "sys.path.insert" not in text and "sys.path.append" not in text
    assert not re.search(r"sys\.argv\[[1-9]\d*\]", text), "parse options with argparse"
    assert "a.split(\"=\") for a in sys.argv" not in text
    siblings = {p.stem for p in SCRIPTS}
    imported = set(re.findall(r"^\s*(?:import|from)\s+(\w+)", text, re.M))
    assert not imported & siblings, f"imports another benchmark script: {imported & siblings}"
