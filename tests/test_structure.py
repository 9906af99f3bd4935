"""The package's import graph has no cycle (imports inside functions count too)."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "graph_eigen"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports (``from . import x`` counts as x)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            submodules = {f"{target}.{alias.name}" for alias in node.names} & modules.keys()
            found |= submodules or ({target} & modules.keys())
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names} & modules.keys()
    return found - {name}


def _cycle(graph: dict[str, set[str]]):
    """One import cycle as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_in_the_package():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "graph_eigen.model" in graph["graph_eigen.embed"]  # the analysis sees imports
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_only_the_command_line_imports_the_command_line():
    modules = _modules()
    cli = {name for name in modules if name.rpartition(".")[2].startswith("cli")}
    assert "graph_eigen.cli" in cli
    entry = cli | {"graph_eigen.__main__"}  # `python -m graph_eigen` runs the command line
    offenders = {name: sorted(_imports(name, path, modules) & cli) for name, path in modules.items()
                 if name not in entry and _imports(name, path, modules) & cli}
    assert not offenders, offenders


def test_objectives_are_set_up_through_their_context():
    """Nothing outside an objective assigns its hooks; every objective subclasses the base."""
    from graph_eigen.objectives import REGISTRY, Objective, build_objective

    hooks = ("reduce", "gather", "embed_all", "count_anchors", "refresh_reference", "_graph", "_sampler",
             "_global_targets")
    for name, path in _modules().items():
        if name.startswith("graph_eigen.objectives"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                    assert not (isinstance(t, ast.Attribute) and t.attr in hooks), \
                        f"{name} line {node.lineno} assigns .{t.attr}"
    for name in REGISTRY:
        assert isinstance(build_objective(name, 2), Objective)


def test_the_training_loop_writes_no_files():
    modules = _modules()
    loop = _imports("graph_eigen.train_loop", modules["graph_eigen.train_loop"], modules)
    assert not loop & {"graph_eigen.io", "graph_eigen.checkpoint", "graph_eigen.rundir", "graph_eigen.train"}


def test_run_folder_file_names_are_spelled_only_by_their_owner():
    """rundir.py owns the run folder's format: no other module spells one of its file names."""
    names = ('"config.json"', '"checkpoint.pt"', '"embeddings.npy"', '"metrics.jsonl"', '"eval.json"', '"probe.json"')
    spelled = [f"{path.relative_to(PACKAGE)}: {name}" for path in PACKAGE.rglob("*.py") if path.name != "rundir.py"
               for name in names if name in path.read_text()]
    assert spelled == []


def test_only_the_fit_module_reaches_the_training_loop():
    """A run is assembled in one place (fit.py): the CLI and the API reach training through it."""
    modules = _modules()
    callers = {name for name, path in modules.items()
               if {"graph_eigen.train", "graph_eigen.train_loop"} & _imports(name, path, modules)}
    assert callers == {"graph_eigen.fit", "graph_eigen.train"}, callers  # train: the recorder of the loop
