"""The process that draws report figures for a command (planner.reports.drawing):
python -m planner.reports PARENT_PID WARM_MODULE; the job pickled on stdin, its result pickled
on stdout."""

import sys

from planner.parallel import die_with_parent
from planner.reports.drawing import serve

die_with_parent(int(sys.argv[1]))
serve(sys.argv[2], sys.stdin.buffer, sys.stdout.buffer)
