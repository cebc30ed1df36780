"""Project-wide properties: everything is documented, and incremental runs read
only the new part of the lake."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from loader.connection import Database
from sandbox import Sandbox
from tests.dbt.dbtkit import CORE_ONLY, Dbt, Lake, conversation
from tests.lakefill import fill_lake_from_truth

COMPILED = Path("compiled/helpscout/models")


def undocumented(manifest: dict, catalog: dict) -> list[str]:
    """Models and sources without a description, and catalog columns without one
    (or described columns the relation does not have)."""
    problems = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] == "model" and unique_id not in catalog["nodes"]:
            problems.append(f"{unique_id}: not built, so not in the catalog")
    for unique_id, relation in {**catalog["nodes"], **catalog["sources"]}.items():
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id)
        if not (node.get("description") or "").strip():
            problems.append(f"{unique_id}: no description")
        described = {name.lower(): (column.get("description") or "").strip()
                     for name, column in node["columns"].items()}
        actual = {name.lower() for name in relation["columns"]}
        problems += [f"{unique_id}.{name}: no description"
                     for name in sorted(actual) if not described.get(name)]
        problems += [f"{unique_id}.{name}: described but not in the relation"
                     for name in sorted(described.keys() - actual)]
    return problems


def test_every_model_and_column_is_described(pg_database: Database, tmp_path: Path) -> None:
    with Sandbox(size=80, seed=3, rate_limit=0, autostart=False) as sb:
        fill_lake_from_truth(pg_database, sb.truth())
    dbt = Dbt(pg_database, tmp_path)
    dbt("run")
    dbt("docs", "generate")
    manifest = json.loads((dbt.target / "manifest.json").read_text())
    catalog = json.loads((dbt.target / "catalog.json").read_text())
    assert (dbt.target / "index.html").exists()
    assert any(n["resource_type"] == "model" for n in manifest["nodes"].values())
    assert "doc.helpscout.__overview__" in manifest["docs"]
    assert undocumented(manifest, catalog) == []


def test_incremental_staging_reads_only_new_lake_rows(pg_database: Database,
                                                     tmp_path: Path) -> None:
    """EXPLAIN of the incremental SQL: the lake is reached through its loaded_at index
    (and by primary key for payloads), never scanned whole."""
    lake = Lake(pg_database)
    now = datetime.now(timezone.utc)
    old = now - timedelta(days=2)
    def copy(cid: int, status: str = "active") -> dict:
        return conversation(cid, status=status,
                            threads=[(cid, "customer", "customer", "2025-01-01 10:00")])

    lake.append("conversations", [copy(i) for i in range(1, 5001)], extracted_at=old,
                loaded_at=old)
    # the previous load, an hour ago: the high-water mark the next run starts from
    recent = now - timedelta(hours=1)
    lake.append("conversations", [copy(i, "pending") for i in (4, 5)],
                extracted_at=recent, loaded_at=recent)
    dbt = Dbt(pg_database, tmp_path)
    models = "stg_helpscout__conversations stg_helpscout__threads"
    dbt("run", "--select", models)
    lake.append("conversations", [copy(i, "closed") for i in (1, 2, 3)],
                extracted_at=now)
    lake.query("analyze helpscout_raw.conversations; select 1")
    dbt("compile", "--select", models, *CORE_ONLY)
    for model in models.split():
        sql = next((dbt.target / COMPILED).rglob(f"{model}.sql")).read_text()
        assert "loaded_at >" in sql, model  # it compiled as an incremental run
        plan = "\n".join(row[0] for row in lake.query(f"explain {sql}"))
        assert "Seq Scan on conversations" not in plan, plan
        if model == "stg_helpscout__conversations":
            assert "conversations_loaded_at_idx" in plan, plan
        else:
            assert "conversations_pkey" in plan, plan
