"""analysis build --scheduler: the same hermetic tasks on a Dask cluster (a LocalCluster here).

Workers get the task's input bytes, not paths: the cluster's workers run in their
own processes with their own temporary folders, and only this process writes reports/.
"""

from __future__ import annotations

import json

import pytest
from test_build import make_project, run, write_notebook

distributed = pytest.importorskip(
    "dask.distributed", reason="Dask distributed is not installed (pip install '.[distributed]')"
)

from analysis.errors import UsageError  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster


def test_dask_build_matches_a_local_build(tmp_path, cluster):
    root = make_project(tmp_path)
    remote, _ = run(root, "main", "source-b", scheduler=cluster.scheduler_address,
                    reports_dir=root / "remote")
    assert remote.exit_code == 0, remote.failed
    assert sorted(remote.built) == ["main", "source-b"]
    local, _ = run(root, "main", "source-b", reports_dir=root / "local")
    assert local.exit_code == 0
    for name in ["main", "source-b"]:
        assert (root / f"remote/{name}/figures.json").read_bytes() == (
            root / f"local/{name}/figures.json").read_bytes()
    figures = json.loads((root / "remote/main/figures.json").read_text())
    assert figures["figures"] == [{"id": "x", "value": 4.0}, {"id": "y", "value": 6.0}]
    # The cluster's results go through the same cache: nothing left to do.
    again, _ = run(root, "main", "source-b", scheduler=cluster.scheduler_address,
                   reports_dir=root / "remote")
    assert again.built == [] and sorted(again.skipped) == ["main", "source-b"]


def test_dask_failure_is_reported_like_a_local_one(tmp_path, cluster):
    root = make_project(tmp_path)
    (root / "data/sources/b.yaml").write_text("nothing: here\n")  # KeyError: 'figures'
    summary, _ = run(root, "source-b", scheduler=cluster.scheduler_address)
    [(name, message)] = summary.failed
    assert "report 'source-b' failed: cell 3 (In [3]) `import json, os, time` raised " \
        "KeyError: 'figures'" in message
    assert (root / "reports/.failed/source-b.ipynb").exists()


def test_unreachable_scheduler_is_a_usage_error(tmp_path, monkeypatch):
    from analysis.reports import runners

    monkeypatch.setattr(runners, "SCHEDULER_CONNECT_TIMEOUT", 1)
    root = make_project(tmp_path)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run(root, "source-a", scheduler="tcp://127.0.0.1:9")


def test_dask_worker_keeps_its_warm_template_between_tasks(tmp_path, cluster):
    root = make_project(tmp_path)
    write_notebook(root / "notebooks" / "tiny.ipynb", extra_cells=[
        "import os, json\n"
        "json.dump({'figures': [{'ppid': os.getppid(), 'pid': os.getpid()}]}, "
        "open(figures_out, 'w'))"])
    summary, _ = run(root, scheduler=cluster.scheduler_address)
    assert summary.exit_code == 0, summary.failed
    pids = [json.loads((root / f"reports/{name}/figures.json").read_text())["figures"][0]
            for name in summary.built]
    # One worker: three kernel processes, all forked from the worker's one template.
    assert len(pids) == 3 and len({p["pid"] for p in pids}) == 3
    assert len({p["ppid"] for p in pids}) == 1
    import os

    with distributed.Client(cluster) as client:
        [worker_pid] = client.run(os.getpid).values()
    assert pids[0]["ppid"] != worker_pid  # the kernels' parent is a template, not the worker
