"""The experiments' command line, on a tiny synthetic MNIST-format file (smoke mode)."""

import csv
import hashlib
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from qntk_sklearn.experiments import measurement_counts, summarize
from qntk_sklearn.experiments.__main__ import main

REQUIRED = [
    "n",
    "method",
    "accuracy_mean",
    "accuracy_sem",
    "kappa_mean",
    "postselection_median",
    "readout_median",
]


@pytest.fixture(scope="module")
def synthetic_mnist(tmp_path_factory):
    """MNIST-format npz: digits 0, 1, 8, 9 as noisy class templates, 40 of each."""
    r = np.random.default_rng(0)
    digits = np.array([0, 1, 8, 9])
    templates = r.uniform(0, 255, size=(4, 28, 28))

    def split(per_class):
        y = np.repeat(digits, per_class)
        x = templates[np.repeat(np.arange(4), per_class)]
        x = x + r.normal(0, 60, size=x.shape)
        return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.uint8)

    x_train, y_train = split(40)
    x_test, y_test = split(20)
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def _header(path):
    with open(path, newline="") as fh:
        return next(csv.reader(fh))


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def smoke_run(synthetic_mnist, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    # The CNN runs natively (no neural-tangents): depth 3, n = 8 and 16, in seconds.
    experiments = ["fc", "baselines", "depth", "cnn"]
    assert (
        main(
            [
                *experiments,
                "--smoke",
                "--out",
                str(out),
                "--mnist",
                str(synthetic_mnist),
            ]
        )
        == 0
    )
    return out


@pytest.mark.parametrize("name", ["fc", "baselines", "depth", "cnn"])
def test_smoke_writes_csv_with_required_columns(smoke_run, name):
    out = smoke_run
    header = _header(out / f"{name}.csv")
    assert header[: len(REQUIRED)] == REQUIRED or set(REQUIRED) <= set(header)
    rows = _rows(out / f"{name}.csv")
    assert rows
    for row in rows:
        assert 0.0 <= float(row["accuracy_mean"]) <= 1.0
    assert (out / f"{name}_runs.csv").exists()


def test_smoke_fc_methods_and_figures(smoke_run):
    out = smoke_run
    rows = _rows(out / "fc.csv")
    methods = {r["method"] for r in rows}
    assert {"exact", "sparse", "diagonal", "exact_median_rule"} <= methods
    assert any(m.startswith("qsvt_") for m in methods)
    assert {r["n"] for r in rows} == {"16", "32"}
    sparse = [r for r in rows if r["method"] == "sparse"]
    assert all(float(r["kappa_mean"]) >= 1.0 for r in sparse)
    assert all(float(r["postselection_median"]) > 0 for r in sparse)
    exact = [r for r in rows if r["method"] == "exact"]
    assert all(math.isnan(float(r["postselection_median"])) for r in exact)
    for png in [
        "fc_accuracy.png",
        "fc_conditioning.png",
        "fc_measurements.png",
        "baselines.png",
        "depth_tradeoff.png",
    ]:
        assert (out / png).stat().st_size > 1000


def test_smoke_run_record(smoke_run):
    out = smoke_run
    record = json.loads((out / "run.json").read_text())
    fc = record["experiments"]["fc"]
    assert fc["mode"] == "smoke" and "--smoke" in fc["command"]
    assert fc["environment"]["versions"]["scikit-learn"]
    assert fc["mnist"]["file"] == "mnist.npz" and len(fc["mnist"]["sha256"]) == 64
    cnn = record["experiments"]["cnn"]
    # The paper's rule: thresholds and k_thresh computed once, on trial 0's n = 16.
    assert cnn["thresholds"]["subset"] == "trial 0, n = 16 training set"
    assert cnn["thresholds"]["k_thresh"] > 0
    timings = cnn["timings"]
    assert timings["kernel_per_trial"]["0"]["entries"] == 16 * 17 // 2 + 8 * 16
    assert {"exact", "diagonal", "threshold"} <= set(timings["methods_total"])


def test_smoke_cnn_methods(smoke_run):
    out = smoke_run
    rows = _rows(out / "cnn.csv")
    methods = {r["method"] for r in rows}
    assert {"exact", "threshold", "diagonal", "threshold_median_rule"} <= methods
    assert any(m.startswith("qsvt_") for m in methods)
    assert {r["n"] for r in rows} == {"8", "16"}
    threshold = [r for r in rows if r["method"] == "threshold"]
    assert all(float(r["postselection_median"]) > 0 for r in threshold)
    assert (out / "cnn_accuracy.png").stat().st_size > 1000


def test_run_record_holds_no_local_paths(smoke_run, synthetic_mnist):
    # The smoke run was given absolute paths (pytest's tmp folders) and runs in an
    # interpreter with an absolute path: none of them may reach run.json.
    out = smoke_run
    text = (out / "run.json").read_text()
    for local in (str(out), str(synthetic_mnist.parent), sys.executable):
        assert local not in text, f"run.json records the local path {local!r}"
    fc = json.loads(text)["experiments"]["fc"]
    assert f"--out {out.name} " in fc["command"]
    assert fc["command"].endswith("--mnist mnist.npz")
    assert fc["python"] == Path(sys.executable).name
    assert fc["mnist"] == {
        "file": "mnist.npz",
        "sha256": hashlib.sha256(synthetic_mnist.read_bytes()).hexdigest(),
    }
    assert set(fc["csv"] + fc["figures"]) <= {p.name for p in out.iterdir()}


@pytest.mark.parametrize(
    ("token", "recorded"),
    [
        ("/home/alice/data/mnist.npz", "mnist.npz"),
        ("--mnist=/home/alice/data/mnist.npz", "--mnist=mnist.npz"),
        ("/tmp/full/results/", "results"),
        ("../shared/mnist.npz", "../shared/mnist.npz"),
        ("--out", "--out"),
        ("fc", "fc"),
    ],
)
def test_command_line_paths_are_recorded_without_the_machine(token, recorded):
    from qntk_sklearn.experiments._runner import _portable_argument

    assert _portable_argument(token) == recorded


def test_committed_run_record_holds_no_local_paths():
    path = Path(__file__).resolve().parents[1] / "docs" / "results" / "run.json"
    if not path.exists():  # pragma: no cover - a checkout without the results
        pytest.skip("docs/results/run.json is not committed")

    def strings(node):
        if isinstance(node, dict):
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)
        elif isinstance(node, str):
            yield node

    local = [
        text
        for text in strings(json.loads(path.read_text()))
        if any(token.lstrip("-=").startswith(("/", "~")) for token in text.split())
        or re.search(r"=[/~]", text)
    ]
    assert not local, f"docs/results/run.json holds local paths: {local}"


def test_append_keeps_other_sizes(smoke_run, synthetic_mnist):
    out = smoke_run
    main(
        [
            "fc",
            "--smoke",
            "--sizes",
            "8",
            "--trials",
            "1",
            "--append",
            "--out",
            str(out),
            "--mnist",
            str(synthetic_mnist),
        ]
    )
    assert {r["n"] for r in _rows(out / "fc.csv")} == {"8", "16", "32"}
    main(["--replot", "--out", str(out)])


def test_cli_errors(tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit):
        main(["nonsense", "--out", str(tmp_path)])
    assert "EXPERIMENT must be among" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fc", "--sizes", "15", "--out", str(tmp_path)])
    assert "even ints" in capsys.readouterr().err
    monkeypatch.delenv("QNTK_MNIST", raising=False)
    with pytest.raises(FileNotFoundError, match="QNTK_MNIST"):
        main(["fc", "--smoke", "--out", str(tmp_path)])


def test_measurement_counts():
    K_star = np.array([[2.0, 0.0], [1.0, 1.0]])
    counts = measurement_counts(K_star, np.array([1.0, 0.0]), 2.0)
    # Row 0: k = (1, 0): P = 1, n/P = 2, overlap 1 -> 0 extra measurements.
    # Row 1: k = (0.5, 0.5): P = 0.5, n/P = 4, overlap 1/sqrt(2) -> 1.
    np.testing.assert_allclose(counts["postselection_kthresh"], [2.0, 4.0])
    np.testing.assert_allclose(counts["postselection"], [2.0, 4.0])  # batch max 1
    np.testing.assert_allclose(counts["readout"], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(counts["postselection_rowmax"], [2.0, 1.0])


def test_measurement_counts_paper_divides_by_the_batch_maximum():
    # k_thresh = 4: k = (0.5, 0) and (0.25, 0.25); the batch's largest |k| is 0.5.
    K_star = np.array([[2.0, 0.0], [1.0, 1.0]])
    counts = measurement_counts(K_star, np.array([1.0, 0.0]), 4.0)
    np.testing.assert_allclose(counts["postselection_kthresh"], [8.0, 16.0])
    np.testing.assert_allclose(counts["postselection"], [2.0, 4.0])
    np.testing.assert_allclose(counts["postselection_rowmax"], [2.0, 1.0])
    # Rescaling never changes the normalised state, so the readout is the same.
    np.testing.assert_allclose(counts["readout"], [0.0, 1.0], atol=1e-12)


def test_paper_post_selection_is_the_notebooks_formula_on_a_fixed_split():
    """n/P the paper's way, against a line-by-line transcription of the notebook.

    The authors' notebook (see PAPER.md, section 4) clips the test-by-train kernel
    by k_thresh, divides the whole clipped matrix by its largest |entry|, then
    computes P per row and reports the median of n / P. Fixed split: the first 32
    eights and nines of scikit-learn's digits for training, the next 16 for testing,
    the paper's FC network at depth 40.
    """
    from sklearn.datasets import load_digits

    from qntk_sklearn import QuantumNTKClassifier

    X, y = load_digits(return_X_y=True)
    keep = np.isin(y, (8, 9))
    X, y = X[keep], y[keep]
    X = (X - X.mean()) / X.std()
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X_train, y_train, X_test = X[:32], y[:32], X[32:48]
    clf = QuantumNTKClassifier(depth=40, sparsity="random", random_state=0)
    clf.fit(X_train, y_train)
    K_test = np.asarray(clf.ntk_(X_test, X_train))
    k_thresh = clf.k_thresh_
    counts = measurement_counts(K_test, clf.dual_coef_[:, 0], k_thresh)

    # The notebook's formula, transcribed without the package's helpers.
    n = K_test.shape[1]
    kstar = np.clip(K_test / k_thresh, -1, 1)
    kstar = kstar / np.max(np.abs(kstar))
    n_over_P = [n / sum(v * v for v in row) for row in kstar]
    np.testing.assert_allclose(counts["postselection"], n_over_P, rtol=1e-12)
    assert np.median(counts["postselection"]) == pytest.approx(np.median(n_over_P))
    # Deep network: k_thresh alone makes the count astronomically larger.
    assert np.median(counts["postselection_kthresh"]) > 1e5 * np.median(n_over_P)
    assert np.all(counts["postselection_rowmax"] <= counts["postselection"])


def test_summarize_standard_error_over_trials():
    runs = [
        {"n": 4, "method": "m", "trial": 0, "accuracy": 0.5, "kappa": 2.0},
        {"n": 4, "method": "m", "trial": 0, "accuracy": 0.7, "kappa": 4.0},
        {"n": 4, "method": "m", "trial": 1, "accuracy": 0.8, "kappa": math.inf},
    ]
    (row,) = summarize(runs)
    assert row["accuracy_mean"] == pytest.approx(2.0 / 3.0)
    # Trial means 0.6 and 0.8: standard error 0.1.
    assert row["accuracy_sem"] == pytest.approx(0.1)
    assert row["kappa_mean"] == pytest.approx(3.0)  # inf kept out of the mean
    assert row["n_trials"] == 2 and row["n_runs"] == 3
    assert math.isnan(row["postselection_median"])


def test_cnn_pool_restricts_a_fuller_run(smoke_run, synthetic_mnist, tmp_path):
    # --cnn-pool 16 with --cnn-sizes 8 draws the same images, subsets and thresholds
    # as the smoke run (sizes 8, 16): its rows are that run's n = 8 rows.
    main(
        ["cnn", "--smoke", "--cnn-sizes", "8", "--cnn-pool", "16"]
        + ["--out", str(tmp_path), "--mnist", str(synthetic_mnist)]
    )
    full = [r for r in _rows(smoke_run / "cnn_runs.csv") if r["n"] == "8"]
    part = _rows(tmp_path / "cnn_runs.csv")
    keys = ["method", "accuracy", "kappa", "postselection", "readout"]
    assert [[r[k] for k in keys] for r in part] == [[r[k] for k in keys] for r in full]


@pytest.mark.parametrize(
    "flag, value, rule",
    [
        ("--trials", "0", "positive int"),
        ("--trials", "-2", "positive int"),
        ("--jobs", "0", "positive int"),
        ("--first-trial", "-1", "non-negative int"),
        ("--exact-max", "-1", "non-negative int"),
    ],
)
def test_cli_refuses_non_positive_counts(tmp_path, capsys, flag, value, rule):
    # --trials 0 used to run and write empty tables.
    with pytest.raises(SystemExit):
        main(["fc", "--smoke", flag, value, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert f"argument {flag}: must be a {rule}; got {value!r}" in err
    assert not list(tmp_path.iterdir())


def test_cli_refuses_to_overwrite_results(smoke_run, synthetic_mnist, capsys):
    out = smoke_run
    before = (out / "depth.csv").read_bytes()
    args = ["depth", "--smoke", "--out", str(out), "--mnist", str(synthetic_mnist)]
    with pytest.raises(SystemExit):
        main(args)
    err = capsys.readouterr().err
    assert "would overwrite" in err and "depth.csv" in err and "--overwrite" in err
    # --append cannot merge the depth sweep: it does not make overwriting silent.
    with pytest.raises(SystemExit):
        main([*args, "--append"])
    assert "depth.csv" in capsys.readouterr().err
    assert (out / "depth.csv").read_bytes() == before
    # Figures only: --replot never refuses.
    assert main(["--replot", "--out", str(out)]) == 0


def test_cli_overwrite_replaces_results(synthetic_mnist, tmp_path):
    args = ["depth", "--smoke", "--out", str(tmp_path), "--mnist", str(synthetic_mnist)]
    assert main(args) == 0
    (tmp_path / "depth.csv").write_text("stale\n")
    assert main([*args, "--overwrite"]) == 0
    assert _rows(tmp_path / "depth.csv")  # rewritten with real rows


def test_prediction_cost_figure_has_no_empty_panel(tmp_path):
    # The CNN experiment measures gate counts but no sign agreement: its cost figure
    # is one panel (it had an empty second one); the FC experiment's keeps both.
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    from qntk_sklearn.experiments import _plots

    def rows(agreement):
        out = []
        for n in (16, 32, 64):
            row = {
                "n": str(n),
                "method": "qsvt_1000shots",
                "decision_rule": "sign",
                "qr_gates_toffoli_per_prediction_median": str(1e6 * n),
                "qr_gates_toffoli_qsvt_median": str(1e4 * n),
                "qr_gates_lookups_per_prediction_median": str(1e5 * n),
                "sign_agreement_mean": "0.9" if agreement else "nan",
                "sign_agreement_sem": "0.01" if agreement else "nan",
            }
            out.append(row)
        return out

    one = _plots.plot_prediction_cost(rows(False), tmp_path, "cnn", "CNN")
    two = _plots.plot_prediction_cost(rows(True), tmp_path, "fc", "FC")
    width_one, width_two = imread(one).shape[1], imread(two).shape[1]
    assert width_one < 0.6 * width_two


def test_cnn_overwrite_check_follows_the_image_size(tmp_path, capsys):
    # A 28 x 28 CNN run writes cnn28*.csv: the 16 x 16 run's cnn.csv used to make the
    # command refuse it, and an existing cnn28.csv did not.
    from qntk_sklearn.experiments._runner import existing_results

    (tmp_path / "cnn.csv").write_text("n\n")
    assert existing_results(["cnn"], str(tmp_path), cnn_image_size=28) == []
    assert existing_results(["cnn"], str(tmp_path)) == ["cnn.csv"]
    (tmp_path / "cnn28_runs.csv").write_text("n\n")
    assert existing_results(["cnn"], str(tmp_path), cnn_image_size=28) == [
        "cnn28_runs.csv"
    ]
    with pytest.raises(SystemExit):
        main(["cnn", "--cnn-image-size", "28", "--out", str(tmp_path)])
    assert "would overwrite cnn28_runs.csv" in capsys.readouterr().err
