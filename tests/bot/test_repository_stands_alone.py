"""The repository stands alone: citations name files inside it, and package exports are static."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SOURCES = [p for d in ("bot", "crawler", "estimator", "store", "tests", "bench") for p in (ROOT / d).rglob("*.py")]
CITED = re.compile(r"(?:\.\./)?(?:shared|docs)/[\w./-]+\.md")


def test_no_source_cites_a_file_outside_the_repository() -> None:
    """Every cited .md path exists in the repository; nothing points at ../shared."""
    missing = []
    for path in [*SOURCES, *(ROOT / "bench" / "data").glob("*.toml"), ROOT / "README.md"]:
        for cited in CITED.findall(path.read_text(encoding="utf-8")):
            if cited.startswith("../") or not (ROOT / cited).is_file():
                missing.append(f"{path.relative_to(ROOT)}: {cited}")
    assert missing == []


@pytest.mark.parametrize("package", ["bot", "bot.app", "bot._discord", "crawler", "estimator", "store"])
def test_package_all_is_a_literal_list_of_names_it_binds(package: str) -> None:
    """``__all__`` is written out (static tools can read it) and names only what the package binds."""
    init = ROOT.joinpath(*package.split("."), "__init__.py")
    tree = ast.parse(init.read_text(encoding="utf-8"))
    (assign,) = [
        n for n in tree.body
        if isinstance(n, ast.Assign | ast.AnnAssign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
    ]
    assert isinstance(assign.value, ast.List) and all(isinstance(e, ast.Constant) for e in assign.value.elts)
    names = [e.value for e in assign.value.elts if isinstance(e, ast.Constant)]
    bound = {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names}
    assert len(names) == len(set(names)) and set(names) <= bound
