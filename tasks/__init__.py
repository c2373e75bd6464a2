"""Processing stages: plain, typed functions on plain data (no Prefect, no MongoDB)."""
