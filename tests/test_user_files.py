"""Users' own files go in without conversion: spreadsheet-style edge lists, feature-id sets, label
tables with class names, and the class names kept with the run."""
import json

import numpy as np
import pytest

from graph_eigen.cli.main import main
from graph_eigen.data import load_dataset
from graph_eigen.errors import DatasetNotFoundError, InvalidGraphError

CLASSES = ("company", "government, local", "tvshow")  # one name holds the delimiter


@pytest.fixture()
def page_graph(tmp_path):
    """A graph in the layout of the MUSAE page-page datasets: a semicolon CSV with quoted fields and
    named columns, features as lists of feature ids in JSON, labels as names in a table."""
    rng = np.random.default_rng(0)
    n = 90
    cls = np.arange(n) % 3
    edges = {(i, (i + 3) % n) for i in range(n)}  # each class a ring, plus random links
    edges |= {tuple(sorted(rng.choice(n, 2, replace=False))) for _ in range(60)}
    rows = ['"id_1";"id_2"'] + [f'"{a}";"{b}"' for a, b in sorted(edges)]
    (tmp_path / "edges.csv").write_text("\n".join(rows) + "\n")
    features = {str(i): sorted({int(cls[i]) * 5 + int(j) for j in rng.integers(0, 5, 3)}) for i in range(n)}
    (tmp_path / "features.json").write_text(json.dumps(features))
    target = ["id,page_name,page_type"] + [f'{i},page {i},"{CLASSES[c]}"' for i, c in enumerate(cls) if i != 7]
    (tmp_path / "target.csv").write_text("\n".join(target) + "\n")
    spec = (f"file:{tmp_path / 'edges.csv'},src=id_1,dst=id_2,features=features.json,labels=target.csv,"
            f"label_column=page_type,id_column=id")
    return spec, edges, features, cls


def test_named_columns_feature_sets_and_label_names_load(page_graph):
    spec, edges, features, cls = page_graph
    graph = load_dataset(spec)
    assert graph.num_nodes == 90 and graph.num_edges == len(edges)
    assert graph.label_names == CLASSES
    expected = cls.copy()
    expected[7] = -1  # no row in the label table: unlabeled
    assert graph.y.tolist() == expected.tolist()
    dense = graph.x.numpy()
    assert dense.shape == (90, 15) and set(np.flatnonzero(dense[4])) == set(features["4"])


def test_quoted_and_semicolon_edge_lists_without_options(tmp_path):
    (tmp_path / "g.csv").write_text('"a";"b"\n"0";"1"\n"1";"2"\n"2";"0"\n')
    assert load_dataset(f"file:{tmp_path / 'g.csv'}").num_edges == 3
    (tmp_path / "w.tsv").write_text("0\t1\t0.5\n1\t2\t2\n")
    graph = load_dataset(f"file:{tmp_path / 'w.tsv'}")
    assert sorted(graph.edge_weight.tolist()) == [0.5, 0.5, 2.0, 2.0]


@pytest.mark.parametrize("options, message", [
    (",src=id_1,dst=nope", "dst column 'nope' is not in the header"),
    (",src=id_1", "name both the src= and the dst= columns"),
    (",colour=red", "'colour=red' is not an option"),
    (",src=id_1,dst=id_2,labels=target.csv,label_column=kind", "label column 'kind' is not in the header"),
])
def test_bad_file_options_name_the_problem(page_graph, options, message):
    spec = page_graph[0].split(",")[0]
    with pytest.raises(InvalidGraphError, match=message):
        load_dataset(spec + options)


def test_a_missing_named_file_is_named(page_graph):
    spec = page_graph[0].split(",")[0] + ",src=id_1,dst=id_2,features=missing.json"
    with pytest.raises(DatasetNotFoundError, match="missing.json' does not exist"):
        load_dataset(spec)


def test_the_class_names_are_kept_with_the_run(page_graph, tmp_path, capsys):
    spec = page_graph[0]
    run = tmp_path / "run"
    assert main(["train", "--dataset", spec, "--out", str(run), "--dim", "4"]) == 0
    sidecar = json.loads((run / "embeddings.npy.json").read_text())
    assert sidecar["label_names"] == list(CLASSES)
    assert main(["probe", str(run), "--seeds", "1"]) == 0
    assert json.loads((run / "probe.json").read_text())["label_names"] == list(CLASSES)


def test_sparse_features_and_class_names_inside_a_graph_npz(tmp_path):
    import scipy.sparse as sp

    features = sp.random(30, 40, density=0.1, format="csr", random_state=1, dtype=np.float32)
    edges = np.array([np.arange(30), (np.arange(30) + 1) % 30])
    names = np.array(["b", "a", "c"])[np.arange(30) % 3]
    np.savez(tmp_path / "g.npz", edge_index=edges, x_data=features.data, x_indices=features.indices,
             x_indptr=features.indptr, x_shape=np.array(features.shape), y=names)
    graph = load_dataset(f"file:{tmp_path / 'g.npz'}")
    assert np.array_equal(graph.x.numpy(), features.toarray())
    assert graph.label_names == ("a", "b", "c") and graph.y[:3].tolist() == [1, 0, 2]
    np.savez(tmp_path / "bad.npz", edge_index=edges, x_data=features.data, x_shape=np.array(features.shape))
    with pytest.raises(InvalidGraphError, match="missing x_indices, x_indptr"):
        load_dataset(f"file:{tmp_path / 'bad.npz'}")


def test_a_relative_spec_with_options_is_stored_absolute(page_graph, tmp_path, monkeypatch):
    from graph_eigen.runs.inputs import absolute

    spec = page_graph[0]
    monkeypatch.chdir(tmp_path)
    relative = spec.replace(f"file:{tmp_path}/", "file:./sub/../")
    stored = absolute("dataset", relative.replace("labels=target.csv", "labels=../" + tmp_path.name + "/target.csv"))
    assert stored.startswith(f"file:{tmp_path / 'edges.csv'},src=id_1,dst=id_2,")
    assert f"labels=../{tmp_path.name}/target.csv" in stored  # relative to the graph file: kept as given
    assert load_dataset(stored).label_names == CLASSES
