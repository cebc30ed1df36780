"""Run by the tests with Airflow's own interpreter (the project's has no Airflow).

    python airflow_probe.py dagbag          the DAG folder as Airflow's DagBag sees it
    python airflow_probe.py runs DAG_ID     every run of DAG_ID with its task instances

Prints one JSON document on the last line of stdout.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def dagbag() -> dict:
    from airflow.dag_processing.dagbag import BundleDagBag

    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    bag = BundleDagBag(dag_folder=folder, bundle_path=folder)
    dags = {}
    for dag_id, dag in bag.dags.items():
        tasks = {}
        for task in dag.tasks:
            tasks[task.task_id] = {
                "operator": type(task).__name__,
                "downstream": sorted(task.downstream_task_ids),
                "upstream": sorted(task.upstream_task_ids),
                "retries": task.retries,
                "retry_exponential_backoff": float(task.retry_exponential_backoff or 0),
                "trigger_rule": str(task.trigger_rule),
                "pre_execute": getattr(getattr(task, "_pre_execute_hook", None), "__name__",
                                       None),
            }
        dags[dag_id] = {
            "schedule": getattr(dag.timetable, "expression", None),
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "tasks": tasks,
        }
    return {"import_errors": {str(k): v for k, v in bag.import_errors.items()}, "dags": dags}


def runs(dag_id: str) -> list[dict]:
    from airflow.models import DagRun, TaskInstance
    from airflow.utils.session import create_session

    out = []
    with create_session() as session:
        for run in session.query(DagRun).filter(DagRun.dag_id == dag_id).all():
            tis = session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id,
                                                     TaskInstance.run_id == run.run_id).all()
            out.append({
                "run_id": run.run_id,
                "logical_date": run.logical_date.isoformat() if run.logical_date else None,
                "state": str(run.state),
                "tasks": {ti.task_id: {"state": str(ti.state) if ti.state else None,
                                       "try_number": ti.try_number} for ti in tis},
            })
    return out


if __name__ == "__main__":
    command = sys.argv[1]
    result = dagbag() if command == "dagbag" else runs(sys.argv[2])
    print(json.dumps(result))
