"""Print the product's requirements from pyproject.toml, one a line, for `pip install -r`.

The image installs dependencies before it copies the source, so that a change to the code
reuses the cached dependency layer. Only pyproject.toml is needed for that:

    python3 ops/container/requirements.py pyproject.toml            # runtime dependencies
    python3 ops/container/requirements.py pyproject.toml --extra local   # one extra only
"""

import argparse
import sys
import tomllib
from pathlib import Path


def requirements(pyproject: Path, extra: str | None = None) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    if extra is None:
        return list(project["dependencies"])
    extras = project.get("optional-dependencies", {})
    if extra not in extras:
        raise SystemExit(f"{pyproject} has no extra {extra!r}; it has {sorted(extras)}")
    return list(extras[extra])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pyproject", type=Path)
    parser.add_argument("--extra", help="print this optional-dependency group instead")
    args = parser.parse_args(argv)
    sys.stdout.write("".join(f"{line}\n" for line in requirements(args.pyproject, args.extra)))


if __name__ == "__main__":
    main()
