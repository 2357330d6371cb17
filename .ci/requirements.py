"""Print the requirements of the installed slr-pose that apply here, less the named packages.

For the Python 3.13 leg of the tests, which installs slr-pose without torch:
    python .ci/requirements.py --extra test --without torch torch-geometric > req.txt
setup.py stays the one place that lists dependencies.
"""

from __future__ import annotations

import argparse
from importlib.metadata import requires

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra", action="append", default=[], help="an extra whose requirements are included too")
    ap.add_argument("--without", nargs="*", default=[], help="package names left out")
    args = ap.parse_args()
    dropped = {canonicalize_name(n) for n in args.without}
    for line in requires("slr-pose") or []:
        req = Requirement(line)
        if canonicalize_name(req.name) in dropped:
            continue
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in [""] + args.extra):
            continue
        req.marker = None
        print(req)


if __name__ == "__main__":
    main()
