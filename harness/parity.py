"""Migration aid: run cases both ways (the old backend path and the rendered script) and
list where the observations differ. ``python -m harness.parity FRAMEWORK [FILES] [-k ID]``."""

from __future__ import annotations

import argparse
import json
import sys

from harness.values import encode


def compare(framework: str, paths, keyword=None, verbose=False) -> int:
    from harness.backends import backend_class
    from harness.cases import load_paths
    from harness.dialects import dialect
    from harness.execute import observe_check as old_observe
    from harness.scripts import observe_check

    d = dialect(framework)
    cls = backend_class(framework)
    bad = total = 0
    for case in load_paths(paths).cases:
        if keyword and keyword not in case.id:
            continue
        for cid, check in zip(case.check_ids, case.checks):
            for mode in d.modes:
                total += 1
                old = old_observe(case, check, cls(mode))
                new = observe_check(case, check, cid, d, mode)
                a = (old.status, json.dumps(encode(old.value), sort_keys=True, default=repr))
                b = (new.status, json.dumps(encode(new.value), sort_keys=True, default=repr))
                if a != b:
                    bad += 1
                    print(f"DIFF {case.id}::{cid}[{d.column(mode)}] old={old.status} "
                          f"new={new.status} {new.reason or old.reason}")
                    print("   old:", a[1][:400])
                    print("   new:", b[1][:400])
                    if verbose and new.script:
                        print(new.script)
    print(f"{bad} of {total} observations differ")
    return 1 if bad else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.parity")
    p.add_argument("framework")
    p.add_argument("paths", nargs="*", default=["cases"])
    p.add_argument("-k", dest="keyword")
    p.add_argument("-v", dest="verbose", action="store_true")
    args = p.parse_args(argv)
    return compare(args.framework, args.paths, args.keyword, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
