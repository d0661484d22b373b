"""The name of every file planner writes into an output folder, and nothing else.

Writers, reports, the study store and the CLI all take their file names from here
(docs/outputs.md describes each file). A table is written twice, `<stem>.parquet` and
`<stem>.csv`, with the same columns.
"""

from __future__ import annotations

PARQUET, CSV = ".parquet", ".csv"
TABLE_SUFFIXES = (PARQUET, CSV)
TEMP_SUFFIX = ".tmp"  # an atomic write's temp file: `.<name>.<random>.tmp` beside the target
COMPLETE = "complete"  # written last into a finished output folder; readers refuse one without
# beside an output folder <name> (planner/outputs/publish.py): its lock, the new folder being
# built, and the old one set aside during the swap
LOCK_SUFFIX = ".lock"  # .<name>.lock
STAGING_INFIX = ".new-"  # .<name>.new-<pid>
ASIDE_INFIX = ".old-"  # .<name>.old-<pid>


def parquet(stem: str) -> str:
    return stem + PARQUET


def csv(stem: str) -> str:
    return stem + CSV


class RunFolder:
    """`planner run`: the simulation's files."""

    SUMMARY = "summary.json"  # written last: its presence means the run is complete
    INPUTS = "inputs.json"
    SCENARIO = "scenario.yaml"
    # table stems
    REPLICATIONS = "replications"
    TIMESERIES = "timeseries"
    EVENTS = "events"
    SHOCKS = "shocks"
    TABLES = (REPLICATIONS, TIMESERIES, EVENTS, SHOCKS)
    # what the reports need of a run folder (replications: the runway's per-replication figures)
    REPORT_INPUTS = (SUMMARY, INPUTS, SCENARIO, TIMESERIES + PARQUET, SHOCKS + PARQUET,
                     REPLICATIONS + PARQUET)


class OptimizeFolder:
    """`planner optimize` (and `planner run` of a scenario with a procurement section)."""

    OPTIMIZATION = "optimization.json"  # written last by the optimizer
    HIGHS_LOG = "highs.log"
    TABLE_PREFIX = "plan_"
    # plan_<name> tables the optimizer always writes (the plan, then its shadow prices, empty
    # with --analyses none), and the ones written only when asked for
    SHADOW_PRICES = "shadow_prices"
    BUY, CONTINGENT, CASH = "buy", "contingent", "cash"
    INPUTS = "inputs"  # every input of the optimizer with its source
    PLAN_TABLES = ("orders", "recourse", "stockpile", "platforms", "fleet", "capacity", "costs",
                   BUY, CONTINGENT, CASH)
    TABLES = (*PLAN_TABLES, SHADOW_PRICES, INPUTS)
    PARETO = "pareto"  # --pareto N
    LIMIT_PRICES = "limit_prices"  # --reoptimize-prices
    SENSITIVITY = "sensitivity"  # --sensitivity utilization
    # run --loop N: one row per round, every round's plan, the last factors, the capacity check
    LOOP_ROUNDS, LOOP_PLANS = "loop_rounds", "loop_plans"
    LOOP_FACTORS, LOOP_CAPACITY = "loop_factors", "loop_capacity"
    LOOP = (LOOP_ROUNDS, LOOP_PLANS, LOOP_FACTORS, LOOP_CAPACITY)
    # --out-of-sample M: per fresh path, per lower-bound replication, the summary
    OOS_PATHS, OOS_REPLICATIONS, OOS_SUMMARY = "oos_paths", "oos_replications", "oos_summary"
    OOS = (OOS_PATHS, OOS_REPLICATIONS, OOS_SUMMARY)
    OPTIONAL = (PARETO, LIMIT_PRICES, SENSITIVITY, *LOOP, *OOS)

    @classmethod
    def table(cls, name: str) -> str:
        """The stem of plan table `name`: plan_orders, plan_pareto, ..."""
        return cls.TABLE_PREFIX + name


class StudyFolder:
    """`planner study`: the study's files and its per-case store."""

    STUDY = "study.json"
    STUDY_FILE = "study.yaml"
    TABLE_PREFIX = "study_"
    RESULTS, CASES, TORNADO, SENSITIVITY, FAILURES, RUNWAY = (
        "results", "cases", "tornado", "sensitivity", "failures", "runway")
    TABLES = (RESULTS, CASES, TORNADO, SENSITIVITY, FAILURES, RUNWAY)
    CASE_STORE = "cases"  # a folder: one <key>.json per finished case
    CASE_SUFFIX = ".json"
    # what the reports need of a study folder
    REPORT_INPUTS = (STUDY, STUDY_FILE, TABLE_PREFIX + CASES + PARQUET,
                     TABLE_PREFIX + FAILURES + PARQUET)

    @classmethod
    def table(cls, name: str) -> str:
        """The stem of study table `name`: study_results, study_cases, ..."""
        return cls.TABLE_PREFIX + name

    @classmethod
    def case_file(cls, key: str) -> str:
        """A stored case's file name inside CASE_STORE."""
        return key + cls.CASE_SUFFIX


class CalibrationFolder:
    """`planner calibrate`: what a fleet's incident log gives (docs/calibration.md)."""

    CALIBRATION = "calibration.json"
    OVERRIDES = "overrides.yaml"  # a scenario fragment: planner run S --overrides FILE
    COMPARE = "compare.json"  # planner compare RUN_DIR LOG
    REPORT = "report.html"  # the fits and their plots


class CacheFiles:
    """Outside any output folder: what planner keeps between runs ($PLANNER_CACHE_DIR, else
    ~/.cache/planner)."""

    AVAILABILITY = "availability"  # measured availability curves, one file per hash

    @staticmethod
    def curve(key: str) -> str:
        return key + ".json"


class GeneratedFiles:
    """In the repository, generated from the models (python -m planner.scenario.reference)."""

    SCENARIO_SCHEMA = "schemas/scenario.schema.json"
    STUDY_SCHEMA = "schemas/study.schema.json"
    FIELD_REFERENCE = "docs/scenario.md"


class ReportFiles:
    """What `planner report` (and every command) writes from a folder's files."""

    WORKBOOK = "report.xlsx"
    PAGE = "report.html"
    SHEET_PREFIX = "report_"  # report_<Sheet> tables: the workbook's sheets as Parquet + CSV
    PLOT_PREFIX = "plot_"
    PLOT_SUFFIX = ".svg"  # every report; PNG (`planner report --png`) on request
    PLOT_SUFFIXES = (".svg", ".png")
    # the plots each kind of folder may have (plot_<name>.svg); reports remove those not drawn
    SIMULATION_PLOTS = ("simulated_demand", "capacity", "availability", "runway", "stock",
                        "interruptions", "lost_gpu_hours")
    PLAN_PLOTS = ("plan_capacity", "orders", "pareto", "out_of_sample")
    STUDY_PLOTS = ("tornado", "interaction", "runway_curve")
    PLOTS = (*SIMULATION_PLOTS, *PLAN_PLOTS, *STUDY_PLOTS)

    @classmethod
    def sheet(cls, name: str) -> str:
        """The stem of the table twin of sheet `name`."""
        return cls.SHEET_PREFIX + name

    @classmethod
    def plot(cls, name: str, suffix: str = PLOT_SUFFIX) -> str:
        """The file name of plot `name` (as SVG, or with another of PLOT_SUFFIXES)."""
        return cls.PLOT_PREFIX + name + suffix


# the files whose presence tells which kind of output folder this is
FOLDER_MARKERS = (RunFolder.SUMMARY, OptimizeFolder.OPTIMIZATION, StudyFolder.STUDY)
# the files `planner report` rewrites (the rest of a folder is the results it reads)
def is_report_file(name: str) -> bool:
    return (name in (ReportFiles.WORKBOOK, ReportFiles.PAGE)
            or name.startswith((ReportFiles.SHEET_PREFIX, ReportFiles.PLOT_PREFIX)))
