"""Dependencies between the project's packages point one way (README, "Layout"):

    iop <- clients <- scheduling <- clinical <- screening <- billing <- portal <- tooling

(a package of the list not yet in the tree is skipped)

A package may use the ones to its left, never one to its right: the platform (iop)
knows no app, clinical never imports screening, and only tooling (seed_scale, the
benchmark, seed_demo's orchestration) knows every app. Every ``.py`` file of the
packages is parsed, imports inside functions included, and so are the other ways
to reach a package by name: ``import_module("...")``, ``apps.get_model("label.Model")``
and a model relation written as ``"label.Model"``. tests/ is not a package here.

``python -m tests.test_architecture`` prints how many imports go from each package
to each package to its left (the figures the README's layout section quotes).
"""

import ast
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Left to right: each package may import only the ones before it.
ORDER = ["iop", "clients", "scheduling", "clinical", "screening", "billing", "portal", "tooling"]
MODEL_NAME = re.compile(r"^(\w+)\.([A-Z]\w*)$")


@dataclass(frozen=True)
class Reach:
    source: str  # package of the file
    target: str  # package reached
    where: str  # path:line
    what: str  # the statement, shortened
    kind: str = "import"  # or "name": a model named by its label


def _app_labels() -> dict[str, str]:
    """App label -> top-level package ("accounts" -> "iop"), from the app registry."""
    from django.apps import apps

    return {
        config.label: config.name.split(".")[0]
        for config in apps.get_app_configs()
        if config.name.split(".")[0] in ORDER
    }


def _module_of(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _absolute(node: ast.ImportFrom, path: Path) -> str:
    if not node.level:
        return node.module or ""
    package = _module_of(path)
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _string(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def reaches(path: Path, source: str, labels: dict[str, str], text: str | None = None):
    """Every reach from one file to another project package: (target, line, what, kind),
    kind "import" (a statement or import_module) or "name" (a model named by label)."""
    tree = ast.parse(text if text is not None else path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        found: list[tuple[str, str, str]] = []  # (dotted module, what, kind)
        if isinstance(node, ast.Import):
            found = [(alias.name, f"import {alias.name}", "import") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, path)
            names = ", ".join(alias.name for alias in node.names)
            found = [(module, f"from {module} import {names}", "import")]
        elif isinstance(node, ast.Call):
            name, args = _call_name(node), [_string(arg) for arg in node.args]
            if name == "import_module" and args and args[0]:
                found = [(args[0], f'import_module("{args[0]}")', "import")]
            elif name == "get_model" and len(args) == 2 and args[0] and args[1]:
                what = f'get_model("{args[0]}", "{args[1]}")'
                found = [(labels.get(args[0], ""), what, "name")]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # A model named by label: a relation ("clients.Client"), a get_model, a lookup.
            match = MODEL_NAME.match(node.value)
            if match and match[1] in labels:
                found = [(labels[match[1]], f'"{node.value}"', "name")]
        for module, what, kind in found:
            package = module.split(".")[0]
            if package in ORDER and package != source:
                yield package, node.lineno, what, kind


def scan(labels: dict[str, str]) -> list[Reach]:
    found = []
    for source in ORDER:
        folder = ROOT / source
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            where = str(path.relative_to(ROOT))
            for target, line, what, kind in reaches(path, source, labels):
                found.append(Reach(source, target, f"{where}:{line}", what, kind))
    return found


def upward(found: list[Reach]) -> list[Reach]:
    return [r for r in found if ORDER.index(r.target) > ORDER.index(r.source)]


def counts(found: list[Reach]) -> Counter:
    return Counter((r.source, r.target) for r in found)


def test_no_package_reaches_one_to_its_right():
    wrong = upward(scan(_app_labels()))
    assert not wrong, (
        f"{len(wrong)} reach(es) against the direction {' <- '.join(ORDER)}:\n"
        + "\n".join(f"  {r.where}: {r.what}  ({r.source} -> {r.target})" for r in wrong)
    )


def test_the_scan_sees_every_way_of_reaching_upward(tmp_path):
    # The rule above can fail: an import inside a function, a relative import that
    # leaves the package, a registry lookup and a model relation by name all count.
    source = (
        "from clients.models import Client\n"
        "def later():\n"
        "    from screening import selectors\n"
        "    return apps.get_model('screening.UrineScreen')\n"
        "from ...screening.models import Panel\n"
        "import_module('clinical.demo')\n"
        "note = models.ForeignKey('clinical.Note', on_delete=None)\n"
        "import os\n"
    )
    path = ROOT / "scheduling" / "fake" / "deep.py"
    labels = {"screening": "screening", "clinical": "clinical", "clients": "clients"}
    found = sorted(
        (line, target) for target, line, *_ in reaches(path, "scheduling", labels, source)
    )
    assert found == [
        (1, "clients"),
        (3, "screening"),
        (4, "screening"),
        (5, "screening"),
        (6, "clinical"),
        (7, "clinical"),
    ]
    wrong = upward([Reach("scheduling", t, f"deep.py:{line}", "") for line, t in found])
    assert [r.where for r in wrong] == [f"deep.py:{n}" for n in (3, 4, 5, 6, 7)]


def test_tooling_is_where_every_app_meets():
    # Something must stand above the apps (seed_scale, the benchmark); it is tooling,
    # and the platform reaches no app at all.
    reached = counts(scan(_app_labels()))
    assert not [target for (source, target) in reached if source == "iop"]
    present = {package for package in ORDER[:-1] if (ROOT / package).is_dir()}
    assert {target for (source, target) in reached if source == "tooling"} >= present


def test_each_app_or_part_registers_in_one_module():
    # What an app or part adds to the registries is in its registrations.py
    # (docs/architecture.md, "The registries"), never spread over suffixed modules
    # such as navigation_notes.py or claim_registrations.py.
    stray = sorted(
        str(path.relative_to(ROOT))
        for package in ORDER
        if (ROOT / package).is_dir()
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        and ("registration" in path.stem or "navigation" in path.stem)
        and path.stem not in ("registrations", "navigation")
    )
    assert not stray, stray
    # A menu (navigation.py) is a registry itself: the staff's in the platform, the
    # portal's in the portal; the rest register into them.
    menus = sorted(
        str(path.relative_to(ROOT))
        for package in ORDER
        if (ROOT / package).is_dir()
        for path in (ROOT / package).rglob("navigation.py")
    )
    assert menus == ["iop/accounts/navigation.py", "portal/navigation.py"]


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iop.settings")
    django.setup()
    found = scan(_app_labels())
    for kind in ("import", "name"):
        of_kind = [r for r in found if r.kind == kind]
        table = counts(of_kind)
        files = {(r.source, r.target, r.where.split(":")[0]) for r in of_kind}
        print(f"{kind}s, from -> to: how many (in how many files)")
        for source in ORDER:
            for target in ORDER:
                if table[source, target]:
                    up = "  UPWARD" if ORDER.index(target) > ORDER.index(source) else ""
                    n = sum(1 for f in files if f[:2] == (source, target))
                    print(f"  {source:10} -> {target:10} {table[source, target]:4} ({n}){up}")
    for r in upward(found):
        print(f"upward: {r.where}: {r.what}")
