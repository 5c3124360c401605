"""Re-derive the three-phase verdicts of this folder from its stored fits (issue 22 item 9: a verdict needs
ΔBIC >= 2, ``wavejax.tradeoff.analysis.MIN_DBIC``). Reads each ``tradeoff.*/results.json``'s stored
``metrics.analysis.phases`` and bootstrap share, applies ``phase_verdict``, and rewrites the verdict records, the
claim/row texts that quoted the old verdict (in every results.json here) and ``report.md``. No fit is recomputed.

Run from the repository root: ``python docs/results/tradeoff_full/rederive_verdicts.py``.
"""

import json
import pathlib

from wavejax.tradeoff._analysis import phase_verdict

HERE = pathlib.Path(__file__).parent


def main() -> None:
    changed: dict[str, tuple[str, bool]] = {}
    for path in sorted(HERE.glob("tradeoff.*/results.json")):
        d = json.loads(path.read_text())
        a = d["metrics"].get("analysis", {})
        for target, old in a.get("verdict", {}).items():
            new = phase_verdict(a["phases"][target], old.get("k2_fraction"))
            if new["text"] != old["text"]:
                changed[old["text"]] = (new["text"], new["supported"])
            a["verdict"][target] = new
        path.write_text(json.dumps(d, indent=2, allow_nan=False) + "\n")
    for path in sorted(HERE.glob("**/results.json")):
        d = json.loads(path.read_text())

        def fix(o):
            if isinstance(o, dict):
                if o.get("measured") in changed:
                    o["measured"], o["holds"] = changed[o["measured"]]
                for v in o.values():
                    fix(v)
            elif isinstance(o, list):
                for v in o:
                    fix(v)

        fix(d)
        path.write_text(json.dumps(d, indent=2, allow_nan=False) + "\n")
    report = HERE / "report.md"
    text = report.read_text()
    for old, (new, _) in changed.items():
        text = text.replace(old, new)
    report.write_text(text)
    for old, (new, _) in changed.items():
        print(f"{old}\n  -> {new}")


if __name__ == "__main__":
    main()
