"""From observations to verdicts: one row per (case, check, backend column).

Each observation is compared with the case's expected value where the case gives one, and
otherwise with the reference engine's observation (the oracle); declared divergences turn a
difference into ``divergence`` (or, when the difference has gone, ``fixed``).
"""

from __future__ import annotations

import math

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from harness.cases import ABSENT, Case
from harness.compare import Comparison, compare, describe
from harness.dialects import split_column
from harness.report.documents import STATUSES  # the one list: worst first
from harness.scripts import Observation
from harness.values import ErrorValue, encode


def applies(versions: str | None, version: str | None) -> bool:
    """Does a declared version range cover this framework version?"""
    if not versions or not version:
        return True
    try:
        return Version(version.split("+")[0]) in SpecifierSet(versions)
    except InvalidVersion:
        return True


def judge_case(case: Case, observations: dict[str, dict[str, Observation]],
               versions: dict[str, str], skipped: dict[str, str],
               columns: list[str], repros: dict | None = None) -> list[dict]:
    """Rows for every check of ``case`` on every column. ``observations[column][check_id]``;
    columns of a skipped framework get ``skipped`` with its reason."""
    rows = []
    for cid, check in zip(case.check_ids, case.checks):
        reference = observations.get("reference", {}).get(cid)
        for column in columns:
            framework, mode = split_column(column)
            base = {"case": case.id, "check": cid, "kind": check.kind, "backend": column,
                    "framework": framework, "mode": mode, "version": versions.get(framework)}
            if framework in skipped or column in skipped:  # a column alone: its own worker
                rows.append(_row(base, "skipped", skipped.get(column) or skipped[framework]))
                continue
            obs = observations.get(column, {}).get(cid)
            if obs is None:
                rows.append(_row(base, "error", "no observation (the worker gave none)"))
                continue
            # stand-ins when there is no expectation nor reference: the other columns in
            # column order, leaving out those the case declares divergent
            others = {c: observations[c][cid] for c in columns
                      if c != column and cid in observations.get(c, {})
                      and observations[c][cid].status != "n/a"
                      and not _declared(check, c, versions)}
            row = judge(check, base, obs, reference if column != "reference" else None, others)
            row["repro"] = (repros or {}).get((column, cid))  # the script that ran
            rows.append(row)
    return rows


def judge(check, base: dict, obs: Observation, reference: Observation | None,
          others: dict[str, Observation]) -> dict:
    if obs.status == "n/a":
        return _row(base, "n/a", obs.reason, duration=obs.duration_s)
    target, compared_with = _target(check, reference, others)
    decls = [d for d in check.divergences(base["backend"], base["framework"])
             if applies(d.versions, base["version"])]
    claim = None if check.claim is ABSENT else check.claim
    extra = {"observed": encode(obs.value), "duration": obs.duration_s,
             "reference": encode(reference.value) if reference and reference.status != "n/a"
             else None,
             "claim": encode(claim) if claim is not None or check.claim is not ABSENT else None,
             "claim_holds": compare(obs.value, check.claim).ok if check.claim is not ABSENT
             else None}
    if compared_with is None:
        if obs.status == "error":
            return _row(base, "error", describe(obs.value), **extra)
        return _row(base, "n/a", "no expected value, and no other backend observed it",
                    **extra)
    extra["expected"] = encode(target)
    extra["compared_with"] = compared_with
    if compared_with == "expect" and reference is not None and reference.status != "n/a":
        extra["reference_agrees"] = compare(obs.value, reference.value, check.tolerance).ok
    result = compare(obs.value, target, check.tolerance)
    extra.update(max_abs_err=result.max_abs_err, max_rel_err=result.max_rel_err,
                 where=result.where)
    if result.ok:
        if decls:
            d = decls[0]
            return _row(base, "fixed", f"declared divergence no longer observed ({d.reason})",
                        divergence=_decl(d), **extra)
        return _row(base, "pass", "", **extra)
    if decls:
        for d in decls:
            if d.expect is ABSENT or compare(obs.value, d.expect, check.tolerance).ok:
                return _row(base, "divergence", d.reason, divergence=_decl(d), **extra)
        d = decls[0]
        also = compare(obs.value, d.expect, check.tolerance)
        return _row(base, "error" if obs.status == "error" else "fail",
                    f"differs from the expectation ({result.message}) and from the declared "
                    f"divergence ({also.message})", divergence=_decl(d), **extra)
    status = "error" if obs.status == "error" and not isinstance(target, ErrorValue) else "fail"
    message = result.message
    if compared_with != "expect":
        message = f"differs from {compared_with}: {message}"
    return _row(base, status, message, **extra)


def _declared(check, column: str, versions: dict) -> bool:
    framework, _ = split_column(column)
    return any(applies(d.versions, versions.get(framework))
               for d in check.divergences(column, framework))


def _target(check, reference, others):
    if check.expect is not ABSENT:
        return check.expect, "expect"
    # Without an expectation, the reference engine is the oracle; an exception it raised is
    # not an expectation, so then any framework that observed a value stands in.
    if reference is not None and reference.status == "ok":
        return reference.value, "reference"
    for column, obs in others.items():
        if obs.status == "ok":
            return obs.value, column
    return None, None


def _decl(d) -> dict:
    return {"reason": d.reason, "evidence": d.evidence, "versions": d.versions,
            "expect": None if d.expect is ABSENT else encode(d.expect)}


def _row(base: dict, status: str, message: str, duration: float = 0.0, **extra) -> dict:
    row = dict(base)
    row.update({"status": status, "message": message, "observed": None, "expected": None,
                "reference": None, "compared_with": None, "max_abs_err": None,
                "max_rel_err": None, "where": None, "divergence": None, "claim": None,
                "claim_holds": None, "reference_agrees": None, "repro": None})
    row.update(extra)
    for key in ("max_abs_err", "max_rel_err"):  # JSON has no infinity: say it in words
        if row[key] is not None and not math.isfinite(row[key]):
            row[key] = "inf" if row[key] > 0 else "nan"
    row["duration_s"] = round(duration, 6)
    return row


__all__ = ["judge_case", "judge", "applies", "STATUSES", "Comparison"]
