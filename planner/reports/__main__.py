"""The process that draws report figures for a command (planner.reports.drawing):
python -m planner.reports PARENT_PID WARM_MODULE; the job pickled on stdin, its result pickled
on stdout."""

import sys

from planner.parallel import die_with_parent
from planner.reports.drawing import serve

if len(sys.argv) != 3 or not sys.argv[1].isdigit():
    print("python -m planner.reports: the figure-drawing process of planner run, optimize and "
          "report (planner/reports/drawing.py), not a command; use `planner report DIR`",
          file=sys.stderr)
    sys.exit(2)
die_with_parent(int(sys.argv[1]))
serve(sys.argv[2], sys.stdin.buffer, sys.stdout.buffer)
