"""README.md's Python example runs as written (in a temporary folder: it writes a run folder)."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def first_python_block(text: str) -> str:
    match = re.search(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    assert match, "README.md has no ```python block"
    return match.group(1)


def test_readme_python_example_runs(tmp_path, monkeypatch):
    code = first_python_block(README.read_text())
    assert len(code.strip().splitlines()) <= 15, "the README's example should stay short"
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "readme_example"}
    exec(compile(code, f"{README}:python-example", "exec"), namespace)
    assert (tmp_path / "sbm-model" / "config.json").is_file()
    assert namespace["embedding"].shape == (500, 5)
