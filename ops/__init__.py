"""Operating the project: the database, dbt, the demo, the report (and what comes next).

The loader (``loader/``) only extracts; everything that starts, builds or reports
lives here, behind one command, ``hs-ops`` (``python -m ops``), which the make
targets call. See :mod:`ops.cli` for the commands and their exit codes.
"""
