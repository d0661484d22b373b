"""The exit codes of the `planner` command (docs/errors.md lists them; a test checks it)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a `planner` process's exit status means."""

    OK = 0
    SOLVER_FAILED = 1  # HiGHS stopped without a plan for another reason than below
    BAD_INPUT = 2  # a file, field, option or folder the user can fix; one line says which
    INFEASIBLE = 3  # the procurement problem has no feasible plan; the line says why
    NO_PLAN_IN_TIME = 4  # the time limit came before any feasible plan
    CASES_FAILED = 5  # a study ran, but some (or all) of its cases failed; the rest is written
    FAULT = 6  # not the input: a worker died, the disk is full, the scheduler is unreachable
    FOLDER_BUSY = 7  # another planner process is writing the same output folder
