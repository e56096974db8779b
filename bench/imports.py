"""How the product's modules import each other: circles and imports inside functions.

    python bench/imports.py [--verbose]

Reads the source (no imports run): every module of the product's packages except tests
and migrations. An import at module level is an edge; `from package import name` is an
edge to `package.name` when that is a module, else to `package`. An import inside a function
is an edge too (it only postpones the import), and is also counted apart: each hides an
edge from tools that read module level only. A circle is a strongly connected group of
two or more modules.
"""

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "accounts",
    "analysis",
    "config",
    "conversations",
    "core",
    "documents",
    "grammar",
    "llm",
    "ops",
    "teaching",
)
SKIPPED_PARTS = {"tests", "migrations", "testing"}


def product_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        base = ROOT / package
        if not base.is_dir():
            continue
        for path in base.rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if SKIPPED_PARTS & set(parts) or any(p.startswith("test_") for p in parts):
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported_names(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        here = module.split(".") if is_package else module.split(".")[:-1]
        anchor = here[: len(here) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _inside_function(tree: ast.Module) -> set[int]:
    nested = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    nested.add(id(inner))
    return nested


def _under_type_checking(tree: ast.Module) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                skipped.add(id(inner))
    return skipped


def graph(modules: dict[str, Path]) -> tuple[dict[str, set[str]], list[tuple[str, int, str]]]:
    edges: dict[str, set[str]] = defaultdict(set)
    in_functions = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nested = _inside_function(tree)
        typing_only = _under_type_checking(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in typing_only:
                continue
            is_package = path.name == "__init__.py"
            targets = {
                t
                for n in imported_names(node, module, is_package)
                if (t := resolve(n, modules)) and t != module
            }
            if not targets:
                continue
            if id(node) in nested:
                in_functions.append((module, node.lineno, ", ".join(sorted(targets))))
            # An import inside a function only postpones an edge: a circle through it is
            # still a circle.
            edges[module] |= _narrowest(targets)
    return edges, in_functions


def _narrowest(targets: set[str]) -> set[str]:
    """`from a.b import c` names a.b.c (a module) and a.b; the deepest one is the edge."""
    return {t for t in targets if not any(o.startswith(t + ".") for o in targets)}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
                continue
            if child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list each import in a function")
    args = parser.parse_args()
    modules = product_modules()
    edges, in_functions = graph(modules)
    found = circles(edges)
    print(f"modules: {len(modules)}")
    print(f"import circles: {len(found)}")
    for group in found:
        print("  " + " <-> ".join(group))
    print(f"project imports inside functions: {len(in_functions)}")
    if args.verbose:
        for module, line, targets in sorted(in_functions):
            print(f"  {modules[module].relative_to(ROOT)}:{line}  {targets}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
