"""The long fuzz run (`make fuzz`): each format's harness in its own process, then one table.

    python -m tests.fuzz.long [--runs N] [--seconds S] [--jobs J] [--work DIR] [FORMAT...]

Per format: N executions (libFuzzer -runs), or S seconds (-max_total_time) when S > 0, whichever
ends first. The corpus in WORK/<format>/corpus is kept between runs (a later run goes on from
the inputs the earlier one found); it is seeded on the first run with the smoke seeds plus the
bigger ones (the DS-CNN demo model, small models from ../shared/models). Exit code 1 if any
format had a failure or its harness died (a signal, a hang, memory), with the reproducers in
WORK/<format>/failures/."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .harness import format_table
from .seeds import FORMATS, ROOT


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("formats", nargs="*", default=list(FORMATS), help=f"default: {' '.join(FORMATS)}")
    ap.add_argument("--runs", type=int, default=10000, help="executions per format (default 10000)")
    ap.add_argument("--seconds", type=int, default=0, help="time budget per format, 0: none")
    ap.add_argument("--jobs", type=int, default=1, help="formats fuzzed at the same time")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "fuzz")
    ap.add_argument("--seed", type=int, default=0, help="libFuzzer -seed (0: random)")
    args = ap.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    pending, running, done = list(args.formats), {}, {}
    while pending or running:
        while pending and len(running) < args.jobs:
            fmt = pending.pop(0)
            work = (args.work / fmt).resolve()
            work.mkdir(parents=True, exist_ok=True)
            (work / "report.json").unlink(missing_ok=True)
            cmd = [sys.executable, "-m", "tests.fuzz.harness", fmt, "--long", "--work", str(work),
                   f"-runs={args.runs}", "-print_final_stats=1"]
            if args.seconds > 0:
                cmd.append(f"-max_total_time={args.seconds}")
            if args.seed:
                cmd.append(f"-seed={args.seed}")
            log = open(work / "fuzz.log", "w")
            print(f"fuzz[{fmt}]: {' '.join(cmd)}  (log: {work / 'fuzz.log'})", flush=True)
            running[fmt] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env), log, work)
        time.sleep(1)
        for fmt, (proc, log, work) in list(running.items()):
            if proc.poll() is None:
                continue
            log.close()
            del running[fmt]
            report_path = work / "report.json"
            report = json.loads(report_path.read_text()) if report_path.is_file() else {
                "format": fmt, "executions": 0, "successes": 0, "clean_errors": 0, "failures": 0, "seconds": 0}
            if proc.returncode != 0 and not report["failures"]:   # died: signal, timeout, oom
                report["failures"] = 1
            report["exit"] = proc.returncode
            done[fmt] = report
            print(f"fuzz[{fmt}]: exit {proc.returncode}, {report['executions']} executions, "
                  f"{report['failures']} failure(s)", flush=True)
    reports = [done[f] for f in args.formats]
    print(format_table(reports))
    bad = [r for r in reports if r["failures"]]
    for r in bad:
        print(f"fuzz[{r['format']}]: failures, reproducers in {args.work / r['format'] / 'failures'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
