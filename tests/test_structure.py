"""The package's architecture, read from its imports (imports inside functions count too): no
cycle, no import from a higher layer, the command line and the training loop reached only by
their owners, and the run folder's file names spelled only by the module that owns the format."""
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
    assert "graph_eigen.model.build" in graph["graph_eigen.runs.export"]  # the analysis sees imports
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


# Lowest first: a module may import its own layer and those below it, never one above.
LAYERS = (
    ("graph_eigen.errors", "graph_eigen.io", "graph_eigen.device", "graph_eigen.config"),
    ("graph_eigen.graph",),
    ("graph_eigen.data",),
    ("graph_eigen.spectral",),
    ("graph_eigen.model",),
    ("graph_eigen.training",),
    ("graph_eigen.runs",),
    ("graph_eigen.evaluate",),
    ("graph_eigen.api", "graph_eigen"),
    ("graph_eigen.cli", "graph_eigen.__main__"),
)


def _layer(module: str) -> int:
    """The layer of ``module``: that of the longest prefix listed in ``LAYERS``."""
    best = max((prefix for names in LAYERS for prefix in names
                if module == prefix or module.startswith(prefix + ".")), key=len)
    return next(i for i, names in enumerate(LAYERS) if best in names)


def test_every_module_has_a_layer_and_imports_no_higher_one():
    modules = _modules()
    upward = [f"{name} -> {target}" for name, path in sorted(modules.items())
              for target in sorted(_imports(name, path, modules)) if _layer(target) > _layer(name)]
    assert upward == [], upward
    top = {name.split(".")[1] for name in modules if name.count(".") >= 1}
    assert top <= {"errors", "io", "device", "config", "graph", "data", "spectral", "model", "training", "runs",
                   "evaluate", "api", "cli", "__main__"}, top  # a new top-level room needs a layer


def test_only_the_command_line_imports_the_command_line():
    modules = _modules()
    cli = {name for name in modules if name == "graph_eigen.cli" or name.startswith("graph_eigen.cli.")}
    assert "graph_eigen.cli.main" in cli
    entry = cli | {"graph_eigen.__main__"}  # `python -m graph_eigen` runs the command line
    offenders = {name: sorted(_imports(name, path, modules) & cli) for name, path in modules.items()
                 if name not in entry and _imports(name, path, modules) & cli}
    assert not offenders, offenders


def test_objectives_are_set_up_through_their_context():
    """Nothing outside an objective assigns its hooks; every objective subclasses the base."""
    from graph_eigen.model.objectives import REGISTRY, Objective, build_objective

    hooks = ("reduce", "gather", "embed_all", "count_anchors", "refresh_reference", "_graph", "_sampler",
             "_global_targets")
    for name, path in _modules().items():
        if name.startswith("graph_eigen.model.objectives"):
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
    loop = _imports("graph_eigen.training.loop", modules["graph_eigen.training.loop"], modules)
    assert not loop & {"graph_eigen.io", "graph_eigen.runs.checkpoint", "graph_eigen.runs.folder", "graph_eigen.runs.recorder"}


def test_the_command_table_is_explicit():
    """Every sub-command is listed in cli/main.py's table, and the command line imports no module
    by name at run time."""
    from graph_eigen.cli.main import COMMANDS, build_parser

    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert set(choices) == set(COMMANDS)
    assert not any("importlib" in path.read_text() for path in (PACKAGE / "cli").glob("*.py"))


def test_run_folder_file_names_are_spelled_only_by_their_owner():
    """runs/folder.py owns the run folder's format: no other module spells one of its file names."""
    names = ('"config.json"', '"checkpoint.pt"', '"embeddings.npy"', '"metrics.jsonl"', '"eval.json"', '"probe.json"')
    spelled = [f"{path.relative_to(PACKAGE)}: {name}" for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).as_posix() != "runs/folder.py"
               for name in names if name in path.read_text()]
    assert spelled == []


def test_only_the_fit_module_reaches_the_training_loop():
    """A run is assembled in one place (runs/fit.py): the CLI and the API reach training through it."""
    modules = _modules()
    callers = {name for name, path in modules.items()
               if {"graph_eigen.runs.recorder", "graph_eigen.training.loop"} & _imports(name, path, modules)}
    assert callers == {"graph_eigen.runs.fit", "graph_eigen.runs.recorder"}, callers  # the recorder runs the loop into a folder
