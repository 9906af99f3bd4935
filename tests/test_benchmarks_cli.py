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




@pytest.mark.parametrize("script", SCRIPTS + sorted((ROOT / "benchmarks" / "harness").glob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT / "benchmarks")))
def test_no_private_names_of_the_package(script):
    """Benchmarks measure the library through its public API: no `obj._name`, no `import _name`."""
    text = script.read_text()
    called = set(re.findall(r"\.(_[A-Za-z]\w*)", text)) | set(re.findall(r"import[^\n]*\b(_[A-Za-z]\w*)", text))
    private = {name for name in called if not name.startswith("__")}
    assert not private, f"private names used: {sorted(private)}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_stay_short(script):
    """Scripts hold their options and the order of their stages; shared code lives in the harness."""
    assert len(script.read_text().splitlines()) <= 250
