"""``python -m harness.execute FILE [CASE] [--framework F] [--mode M] [--script]``: run a
case's checks on one column in this process and print what each observed (and, with
``--script``, the script that ran): for writing cases and dialects."""

from __future__ import annotations

import argparse
import pprint


def main(argv=None) -> int:
    from harness.cases import load_file
    from harness.dialects import dialect
    from harness.scripts import observe_check

    parser = argparse.ArgumentParser(prog="python -m harness.execute")
    parser.add_argument("file")
    parser.add_argument("case", nargs="?")
    parser.add_argument("--framework", default="reference")
    parser.add_argument("--mode")
    parser.add_argument("--script", action="store_true", help="print each check's script")
    args = parser.parse_args(argv)
    loaded = load_file(args.file)
    for err in loaded.errors:
        print("error:", err)
    spelling = dialect(args.framework)
    mode = args.mode or spelling.modes[0]
    for case in loaded.cases:
        if args.case and case.id != args.case:
            continue
        for cid, check in zip(case.check_ids, case.checks):
            obs = observe_check(case, check, cid, spelling, mode)
            print(f"{case.id}::{cid}[{spelling.column(mode)}] {obs.status} {obs.reason}")
            if args.script and obs.script:
                print(obs.script)
            pprint.pprint(obs.value, indent=2, width=100)
    return 1 if loaded.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
