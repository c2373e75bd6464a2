"""The layering of the package, checked on the source (the README's "Architecture" table).

| layer | modules | may import (of newsdedup) | never |
|---|---|---|---|
| stages | ``newsdedup.tasks.*`` | other stages | prefect, pymongo/bson, web stacks; config, db, flows, cli |
| base | ``newsdedup`` (the version), ``config``, ``processes``, ``progress`` | base | |
| servers | ``embedded``, ``secantus_server``, ``prefect_server`` | base | stages, db, flows |
| store | ``db`` | base, servers, ``tasks.ids`` | other stages, flows, cli |
| wiring | ``newsdedup.flows.*`` | stages, store, base, servers, ``web.links`` (URL formats) | cli, query, rest of web |
| read side | ``query``, ``web.*`` | stages, store, base, servers, ``query`` | flows, cli |
| entry | ``cli``, ``preflight``, ``__main__`` | everything | |

No module imports another module's private (``_name``) names, nor reaches them as attributes.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"newsdedup": ROOT / "newsdedup", "newsdedup.flows": ROOT / "flows", "newsdedup.tasks": ROOT / "tasks"}
FORBIDDEN_IN_STAGES = ("prefect", "pymongo", "bson", "fastapi", "starlette", "jinja2", "uvicorn")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg, folder in PACKAGES.items():
        for f in sorted(folder.rglob("*.py")):
            rel = f.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([pkg, *parts])
            if pkg == "newsdedup" and parts and parts[0] in ("flows", "tasks"):
                continue  # not part of this tree (mapped from the top-level folders)
            out[name] = f
    return out


def _layer(mod: str) -> str:
    if mod.startswith("newsdedup.tasks"):
        return "stages"
    if mod.startswith("newsdedup.flows"):
        return "wiring"
    if mod.startswith("newsdedup.web") or mod == "newsdedup.query":
        return "read side"
    return {"newsdedup.config": "base", "newsdedup.processes": "base", "newsdedup.progress": "base", "newsdedup.interrupts": "base",
            "newsdedup.embedded": "servers", "newsdedup.secantus_server": "servers",
            "newsdedup.prefect_server": "servers", "newsdedup.db": "store", "newsdedup.cli": "entry",
            "newsdedup.preflight": "entry", "newsdedup.__main__": "entry", "newsdedup": "base"}.get(mod, "unknown")


ALLOWED = {
    "stages": {"stages"},
    "base": {"base"},
    "servers": {"base", "servers"},
    "store": {"base", "servers"},
    "wiring": {"stages", "store", "base", "servers", "wiring"},
    "read side": {"stages", "store", "base", "servers", "read side"},
    "entry": {"stages", "store", "base", "servers", "wiring", "read side", "entry"},
}
STORE_MAY_USE = {"newsdedup.tasks.ids"}  # identity only: the store names records as the stages do
WIRING_MAY_USE = {"newsdedup.web", "newsdedup.web.links"}  # the explorer's URL formats, for links in artifacts


def _is_package(mod: str, modules: dict[str, Path]) -> bool:
    return modules.get(mod, Path()).name == "__init__.py"


def _resolve(mod: str, node: ast.ImportFrom, modules: dict[str, Path]) -> str:
    if not node.level:
        return node.module or ""
    base = mod.split(".")
    if not _is_package(mod, modules):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join(base + ([node.module] if node.module else []))


def _imports(mod: str, path: Path, modules: dict[str, Path]):
    """(imported module, imported names, line) of every import of a module; names are those of
    ``from X import a, b`` (each also tried as a submodule X.a)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(mod, node, modules)
            if target == "__future__":
                continue
            yield target, [a.name for a in node.names], node.lineno


def test_every_module_is_in_a_layer():
    modules = _modules()
    assert {"newsdedup.tasks.readers", "newsdedup.processes", "newsdedup.flows.ingest"} <= modules.keys()
    unknown = sorted(m for m in modules if _layer(m) == "unknown")
    assert not unknown, f"modules outside the layering table: {unknown}"


def test_layers_import_only_what_the_table_allows():
    modules = _modules()
    bad = []
    for mod, path in modules.items():
        layer = _layer(mod)
        for target, names, line in _imports(mod, path, modules):
            top = target.split(".")[0]
            if layer == "stages" and top in FORBIDDEN_IN_STAGES:
                bad.append(f"{path.relative_to(ROOT)}:{line} stage imports {target}")
            if top != "newsdedup":
                continue
            targets = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules] or [target]
            for t in targets:
                if t not in modules and t != "newsdedup":
                    bad.append(f"{path.relative_to(ROOT)}:{line} imports unknown module {t}")
                    continue
                tl = _layer(t)
                if layer == "store" and tl == "stages" and t in STORE_MAY_USE:
                    continue
                if layer == "wiring" and t in WIRING_MAY_USE:
                    continue
                if tl not in ALLOWED[layer]:
                    bad.append(f"{path.relative_to(ROOT)}:{line} {layer} module {mod} imports {tl} module {t}")
    assert not bad, "\n".join(bad)


def test_no_module_imports_another_modules_private_names():
    modules = _modules()
    bad = []
    for mod, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: set[str] = set()  # names bound to newsdedup modules in this module
        for target, names, line in _imports(mod, path, modules):
            if not target.startswith("newsdedup"):
                continue
            for n in names:
                if f"{target}.{n}" in modules:
                    aliases.add(n)
                elif n.startswith("_") and not n.startswith("__") and target != mod:
                    bad.append(f"{path.relative_to(ROOT)}:{line} imports private {target}.{n}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                aliases.update((a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("newsdedup"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} reaches private {node.value.id}.{node.attr}")
    assert not bad, "\n".join(bad)


def test_the_flow_modules_only_wire():
    """flows/ holds tasks, batching, artifacts and the flow function: short, every task a thin call."""
    assert len((ROOT / "flows" / "ingest.py").read_text(encoding="utf-8").splitlines()) < 420
    for path in sorted((ROOT / "flows").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and any(
                    isinstance(d, ast.Call) and getattr(d.func, "id", None) == "task" for d in node.decorator_list):
                body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
                assert len(body) <= 12, f"task {node.name} holds {len(body)} statements: move its logic into a stage"


def test_every_package_folder_is_packaged():
    """``pip install .`` (the Docker image) ships only the packages pyproject lists: a new sub-package
    (tasks/readers, newsdedup/web) must be listed, or the installed product fails on import."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {m for m, p in _modules().items() if p.name == "__init__.py"}
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"
