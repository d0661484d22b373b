"""planner calibrate: reading logs, the estimators against closed forms, and the round trip of a
synthetic log through the estimators."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from planner.calibration.estimate import (
    category_rates,
    km_quantile,
    km_quantile_interval,
    lemon_fit,
    node_up_days,
    poisson_interval,
    repair_fit,
    up_node_days,
)
from planner.calibration.fragment import fragment
from planner.calibration.log import Window, read_log
from planner.calibration.mapping import fitted_name, resolve, stepfun_map
from planner.calibration.record import calibrate
from planner.catalog.catalog import shipped_catalog
from planner.errors import InputError
from tests.calibration.synthetic import Truth, write_log
from tests.conftest import invoke_planner

TRACE = Path(__file__).resolve().parents[2] / "data" / "stepfun-fault-trace" / "fault_trace.json"


def _csv(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- reading ---------------------------------------------------------------------------------


def test_the_stepfun_trace_pairs_starts_and_ends():
    log = read_log(TRACE, "stepfun", 400, Window(348.0))
    assert len(log.faults) == 583  # 1,168 events: 583 pairs and 2 starts never ended
    assert sum(f.censored for f in log.faults) == 2
    assert log.categories()[0] == "GPU" and sum(f.category == "GPU" for f in log.faults) == 158
    assert all(0 <= f.start_day < 348 and f.end_day <= 348 for f in log.faults)


def test_csv_with_dates_open_faults_and_faults_outside_the_window(tmp_path):
    path = _csv(tmp_path, "node_id,fault_start,fault_end,category,comment\n"
                "a,2025-01-02T12:00:00,2025-01-03,gpu,x\n"
                "b,2025-01-05,,nic,still open\n"
                "c,2024-12-30,2025-01-01,gpu,before the window\n"
                "d,2025-01-09,2025-01-20,gpu,open at the window's end\n")
    log = read_log(path, "csv", 10, Window(10.0, start=dt.datetime(2025, 1, 1)))
    by_node = {f.node: f for f in log.faults}
    assert set(by_node) == {"a", "b", "d"}
    assert by_node["a"].start_day == 1.5 and by_node["a"].downtime_hours == 12.0
    assert by_node["b"].censored and by_node["b"].end_day == 10.0
    assert by_node["d"].censored and by_node["d"].end_day == 10.0


def test_jsonl_with_day_numbers(tmp_path):
    path = _csv(tmp_path, '{"node_id": "a", "fault_start": 1, "fault_end": 2, "category": "gpu"}\n'
                '\n{"node_id": "b", "fault_start": "3.5", "category": "nic"}\n', "log.jsonl")
    log = read_log(path, "jsonl", 5, Window(10.0))
    assert [(f.node, f.start_day, f.end_day, f.censored) for f in log.faults] == [
        ("a", 1.0, 2.0, False), ("b", 3.5, 10.0, True)]


@pytest.mark.parametrize(("fmt", "text", "expected"), [
    ("csv", "node,fault_start,fault_end,category\n", "log.x:1 the header lacks node_id"),
    ("csv", "node_id,fault_start,fault_end,category\na,1,2,gpu\nb,soon,3,gpu\n",
     "log.x:3 fault_start: 'soon' is neither a day number nor an ISO date"),
    ("csv", "node_id,fault_start,fault_end,category\na,5,2,gpu\n",
     "log.x:2 fault_end: ends before it starts"),
    ("csv", "node_id,fault_start,fault_end,category\na,2025-01-01,,gpu\n",
     "log.x:2 fault_start: a date needs --from"),
    ("csv", "node_id,fault_start,fault_end,category\n,1,2,gpu\n", "log.x:2 node_id: is empty"),
    ("jsonl", '{"node_id": "a", "fault_start": 1}\n', "log.x:1 category: is missing"),
    ("jsonl", 'a\n', "log.x:1 not JSON"),
    ("jsonl", '{"node_id": "a", "fault_start": true, "category": "gpu"}\n',
     "log.x:1 fault_start: must be a day number or an ISO date, not true/false"),
    ("stepfun", '{"a": 1}', "log.x:1 the StepFun trace is a JSON list"),
    ("stepfun", '[{"node_id": "a"}]', "log.x event 0: needs node_id"),
])
def test_a_bad_log_is_one_line_naming_the_line_and_field(tmp_path, fmt, text, expected):
    with pytest.raises(InputError) as err:
        read_log(_csv(tmp_path, text, "log.x"), fmt, 5, Window(10.0))
    message = str(err.value).replace(str(tmp_path) + "/", "")
    assert message.startswith(expected), message
    assert "\n" not in message


def test_more_nodes_in_the_log_than_the_fleet_is_an_error(tmp_path):
    path = _csv(tmp_path, "node_id,fault_start,fault_end,category\na,1,2,gpu\nb,1,2,gpu\n")
    with pytest.raises(InputError, match="names 2 nodes, more than --nodes 1"):
        read_log(path, "csv", 1, Window(10.0))


def test_log_classes_map_to_catalog_categories():
    catalog = shipped_catalog()
    log = read_log(TRACE, "stepfun", 400, Window(348.0))
    likeness = resolve(log.categories(), catalog, stepfun_map(), {}, "trace")
    assert likeness["GPU"].like == "gpu" and likeness["Fan"].part == "fan"
    assert fitted_name("Parameter Plane Cable") == "fit_parameter_plane_cable"
    with pytest.raises(InputError, match="log class 'Gizmo' maps to no catalog category"):
        resolve(["Gizmo"], catalog, {}, {}, "log.csv")
    assert resolve(["gpu"], catalog, {}, {}, "log.csv")["gpu"].like == "gpu"  # same name


# --- estimators ----------------------------------------------------------------------------------


def test_up_time_is_the_window_less_the_union_of_a_nodes_faults(tmp_path):
    path = _csv(tmp_path, "node_id,fault_start,fault_end,category\n"
                "a,1,3,gpu\na,2,4,nic\na,8,,gpu\nb,5,6,gpu\n")
    log = read_log(path, "csv", 3, Window(10.0))
    assert node_up_days(log) == {"a": 10 - 3 - 2, "b": 9.0}  # [1, 4) and [8, 10) down
    assert up_node_days(log) == 5 + 9 + 10


def test_exact_poisson_interval():
    zero = poisson_interval(0, 1000.0)
    assert zero.estimate == 0 and zero.low == 0 and zero.high == pytest.approx(3.689, abs=1e-3)
    ten = poisson_interval(10, 1000.0)
    assert (ten.low, ten.high) == pytest.approx((4.795, 18.39), abs=1e-2)


def test_censored_lognormal_repairs_are_recovered_and_kaplan_meier_reads_the_log():
    rng = np.random.default_rng(7)
    hours = np.exp(np.log(20.0) + 1.5 * rng.standard_normal(4000))
    cut = 200.0
    fit = repair_fit(np.minimum(hours, cut).tolist(), (hours > cut).tolist())
    assert fit is not None and fit.chosen.dist == "lognormal"
    assert fit.chosen.params["median"] == pytest.approx(20.0, rel=0.06)
    assert fit.chosen.params["sigma"] == pytest.approx(1.5, rel=0.05)
    assert fit.censored == int((hours > cut).sum()) > 200  # 6 % beyond the cut
    assert fit.km_p50 == pytest.approx(np.median(hours), rel=0.06)  # below the cut: unbiased
    assert fit.chosen.mean == pytest.approx(20.0 * math.exp(1.5 ** 2 / 2), rel=0.2)


def test_overdispersion_is_found_with_lemons_and_not_without():
    base = Truth(400, 365, {"gpu": 2.0, "nic": 1.0}, 0.0, 1.0, {"gpu": 10.0, "nic": 5.0}, 1.0)
    lemons = Truth(400, 365, {"gpu": 2.0, "nic": 1.0}, 0.1, 10.0, {"gpu": 10.0, "nic": 5.0}, 1.0)
    for truth, dispersed in ((base, False), (lemons, True)):
        log = _log_of(truth, 3)
        fit = lemon_fit(log)
        assert (fit.dispersion_p_value < 0.001) == dispersed, fit


def _log_of(truth: Truth, seed: int):
    """The synthetic log written to a file and read back as a user's would be."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        path.write_text(write_log(truth, seed))
        return read_log(path, "csv", truth.nodes, Window(float(truth.days)))


ROUND_TRIP = Truth(400, 348, {"gpu": 2.0, "nic": 0.8, "network": 0.5}, 0.15, 6.0,
                   {"gpu": 16.0, "nic": 10.0, "network": 40.0}, 1.2)


@pytest.mark.slow
def test_round_trip_intervals_cover_the_truth_on_50_seeds():
    """On a fixed list of 50 seeds, each parameter's 95 % interval covers the truth in at least
    43 (a binomial(50, 0.95) falls below 43 with probability 0.4 %)."""
    covered: dict[str, int] = {}
    for seed in range(50):
        log = _log_of(ROUND_TRIP, 1000 + seed)
        rates = category_rates(log)
        for category in ROUND_TRIP.rates_per_1000_node_days:
            r, truth = rates[category], ROUND_TRIP.fleet_rate(category)
            covered[category] = covered.get(category, 0) + (r.low <= truth <= r.high)
        lemon = lemon_fit(log)
        share = ROUND_TRIP.lemons / ROUND_TRIP.nodes
        covered["lemon fraction"] = covered.get("lemon fraction", 0) + (
            lemon.fraction.low <= share <= lemon.fraction.high)
        covered["lemon multiplier"] = covered.get("lemon multiplier", 0) + (
            lemon.rate_multiplier.low <= ROUND_TRIP.lemon_multiplier <= lemon.rate_multiplier.high)
    assert all(n >= 43 for n in covered.values()), covered


# --- the command ---------------------------------------------------------------------------------


def test_planner_calibrate_writes_calibration_json(tmp_path):
    out = tmp_path / "cal"
    result = invoke_planner("calibrate", str(TRACE), "--nodes", "400", "--days", "348",
                            "--format", "stepfun", "--out", str(out), "-q")
    assert result.exit_code == 0, result.stderr
    record = json.loads((out / "calibration.json").read_text())
    assert record["nodes"] == 400 and record["faults"] == 583 and record["open_at_end"] == 2
    gpu = record["categories"]["fit_gpu"]
    assert gpu["faults"] == 158 and gpu["part"] == "gpu_board"
    low, high = gpu["rate_per_1000_node_days"]["ci95"]
    assert low < gpu["rate_per_1000_node_days"]["estimate"] < high
    assert record["lemon"]["overdispersion"]["p_value"] < 1e-6
    repair = record["repair_hours"]["fit_gpu"]
    assert repair["dist"] in ("lognormal", "weibull", "gamma") and len(repair["fits"]) == 3
    assert repair["aic"] == min(f["aic"] for f in repair["fits"])
    assert record["repair_hours"]["fit_firmware"] is None  # one fault: too few to fit
    page = (out / "report.html").read_text()
    assert page.count("<img ") == 4 and "://" not in page  # self-contained: no link out
    assert "Parameter Plane Cable" in page and "over-dispersion" in page


@pytest.mark.parametrize(("args", "expected"), [
    (("--nodes", "400", "--days", "348"), "cannot tell the format from the extension"),
    (("--nodes", "400", "--format", "stepfun"), "--days: give the window"),
    (("--nodes", "10", "--days", "348", "--format", "stepfun"), "more than --nodes 10"),
    (("--nodes", "400", "--days", "348", "--format", "xml"), "--format: unknown format 'xml'"),
])
def test_calibrate_usage_errors_are_one_line(tmp_path, args, expected):
    result = invoke_planner("calibrate", str(TRACE), *args, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines


def test_kaplan_meier_quantiles_count_open_repairs_as_censored():
    # closed at 1, 2, 4 h, one open at 3 h: S(1) = 3/4, S(2) = 1/2, S(4) = 0. S is exactly
    # 1/2 from 2 h to the next closed repair at 4 h (not the open one at 3 h): the median is
    # their midpoint, 3 h, as R's survfit gives; p90 is 4 h
    fit = repair_fit([1.0, 2.0, 4.0, 3.0], [False, False, False, True])
    assert fit is not None and (fit.km_p50, fit.km_p90) == (3.0, 4.0)
    # S(2) = 0.6 (5 repairs, all closed): no tie, the median is the first time S <= 1/2
    assert repair_fit([1.0, 2.0, 3.0, 5.0, 8.0], [False] * 5).km_p50 == 3.0
    km = stats.ecdf(stats.CensoredData(uncensored=[1.0, 2.0, 4.0], right=[3.0])).sf
    assert km.evaluate(2.0) == pytest.approx(0.5)


def test_overrides_from_calibrate_run_and_reproduce_the_logs_failure_count(tmp_path):
    out = tmp_path / "cal"
    assert invoke_planner("calibrate", str(TRACE), "--nodes", "400", "--days", "348",
                          "--format", "stepfun", "--out", str(out), "-q").exit_code == 0
    fragment = out / "overrides.yaml"
    assert fragment.read_text().startswith("# planner calibrate:")
    scenario = tmp_path / "fleet.yaml"
    scenario.write_text(
        "name: fleet\nstart_date: 2024-03-30\nhorizon_days: 348\nseed: 1\n"
        "cluster:\n  pools: [{name: gpu, sku: H800, nodes: 400}]\n"
        "  spares: {default: {initial_stock: 1000, policy: base_stock, lead_time_days: 1}}\n")
    assert invoke_planner("validate", str(scenario), "--overrides", str(fragment)).exit_code == 0
    run = tmp_path / "run"
    result = invoke_planner("run", str(scenario), "--overrides", str(fragment), "-r", "4", "-q",
                            "--out", str(run))
    assert result.exit_code == 0, result.stderr
    summary = json.loads((run / "summary.json").read_text())
    failures = summary["node_failures"]["gpu"]["mean"]
    assert abs(failures - 583) < 4 * math.sqrt(583), failures  # the log's 583 faults
    assert summary["overrides"][0] == f"--overrides {fragment}"
    inputs = json.loads((run / "inputs.json").read_text())
    assert set(inputs["scenario"]["cluster"]["pools"][0]["categories"]) == {
        c for c in json.loads((out / "calibration.json").read_text())["categories"]}


def test_compare_scales_counts_and_reads_censored_repairs(tmp_path):
    import pandas as pd

    from planner.calibration.compare import compare
    from planner.calibration.mapping import Likeness

    path = _csv(tmp_path, "node_id,fault_start,fault_end,category\n"
                "a,1,1.5,gpu\nb,2,2.5,gpu\nc,3,,gpu\n")
    log = read_log(path, "csv", 4, Window(10.0))
    # a run of 8 nodes over 20 days, 2 replications: 4 gpu failures per replication = 1 at
    # the log's 4 nodes x 10 days; one repair still open at the end (NaN downtime)
    events = pd.DataFrame({
        "replication": [0, 0, 0, 0, 1, 1, 1, 1], "time_hours": [10.0] * 7 + [470.0],
        "pool": ["p"] * 8, "node": [0, 1, 2, 3, 0, 1, 2, 3], "category": ["gpu"] * 8,
        "kind": ["hard"] * 8, "downtime_hours": [12.0] * 7 + [math.nan]})
    rows = {(r.check, r.category): r for r in
            compare(events, {0: 20.0, 1: 20.0}, 8, log, {"gpu": Likeness("gpu")})}
    failures = rows[("failures", "gpu")]
    assert failures.log == 3 and failures.simulated == pytest.approx(1.0)
    assert failures.passed  # inside the exact Poisson band of 3, [0.62, 8.77], wider than 10 %
    p50 = rows[("repair p50 h", "gpu")]
    assert (p50.log, p50.simulated) == (12.0, 12.0) and p50.passed
    assert ("repair p90 h", "gpu") not in rows  # the log's curve stops at 2/3: no p90


def test_planner_compare_writes_compare_json_with_a_verdict_per_row(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(write_log(Truth(100, 200, {"gpu": 20.0}, 0.0, 1.0, {"gpu": 10.0}, 0.5), 5))
    cal = tmp_path / "cal"
    assert invoke_planner("calibrate", str(log), "--nodes", "100", "--days", "200", "--out",
                          str(cal), "-q").exit_code == 0
    scenario = tmp_path / "fleet.yaml"
    scenario.write_text(
        "name: fleet\nstart_date: 2027-01-01\nhorizon_days: 200\nseed: 2\n"
        "cluster:\n  pools: [{name: p, sku: H800, nodes: 100}]\n"
        "  spares: {default: {initial_stock: 1000, policy: base_stock, lead_time_days: 1}}\n")
    run = tmp_path / "run"
    assert invoke_planner("run", str(scenario), "--overrides", str(cal / "overrides.yaml"),
                          "-r", "4", "-q", "--out", str(run)).exit_code == 0
    result = invoke_planner("compare", str(run), str(log), "--nodes", "100", "--days", "200",
                            "--out", str(tmp_path / "cmp"), "-q")
    assert result.exit_code == 0, result.stderr
    record = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    by_check = {(r["check"], r["category"]): r for r in record["rows"]}
    assert by_check[("failures", "fit_gpu")]["pass"], by_check[("failures", "fit_gpu")]
    assert by_check[("repair p50 h", "fit_gpu")]["pass"]
    assert record["passed"] + record["failed"] == len(record["rows"])
    missing = invoke_planner("compare", str(tmp_path / "nowhere"), str(log), "--nodes", "100",
                             "--days", "200")
    assert missing.exit_code == 2 and "not a complete output folder of planner run" in missing.stderr


def test_a_window_can_start_at_a_day_number_of_the_log(tmp_path):
    path = _csv(tmp_path, "node_id,fault_start,fault_end,category\n"
                "a,1,2,gpu\nb,12,13,gpu\nc,19,,gpu\n")
    log = read_log(path, "csv", 3, Window(10.0, first_day=10.0))
    assert [(f.node, f.start_day, f.censored) for f in log.faults] == [
        ("b", 2.0, False), ("c", 9.0, True)]
    result = invoke_planner("calibrate", str(path), "--nodes", "3", "--from", "10", "--days",
                            "10", "--map", str(_csv(tmp_path, "gpu: gpu\n", "m.yaml")),
                            "--out", str(tmp_path / "o"), "-q")
    assert result.exit_code == 0, result.stderr
    assert json.loads((tmp_path / "o" / "calibration.json").read_text())["faults"] == 2


def test_repairs_of_one_length_get_no_fit_and_no_traceback(tmp_path):
    path = _csv(tmp_path, "node_id,fault_start,fault_end,category\n"
                "n1,1,1,gpu\nn2,3,3,gpu\nn3,5,5,gpu\n")
    result = invoke_planner("calibrate", str(path), "--nodes", "3", "--days", "10",
                            "--out", str(tmp_path / "o"), "-q")
    assert result.exit_code == 0, result.stderr
    record = json.loads((tmp_path / "o" / "calibration.json").read_text())
    assert record["repair_hours"]["fit_gpu"] is None
    fragment = yaml.safe_load((tmp_path / "o" / "overrides.yaml").read_text())
    assert fragment["catalog"]["categories"]["fit_gpu"]["repair_hours"]["dist"] == "empirical"


@pytest.mark.parametrize(("args", "days"), [
    (("--from", "2024-01-01T02:00:00+02:00", "--days", "10"), 10.0),  # = 2024-01-01 00:00 UTC
    (("--from", "2024-01-01", "--to", "2024-01-11T00:00+00:00"), 10.0),
])
def test_a_window_given_with_a_time_zone_is_read_in_utc(tmp_path, args, days):
    path = _csv(tmp_path, "node_id,fault_start,fault_end,category\n"
                "a,2024-01-02,2024-01-03,gpu\nb,2024-01-04,2024-01-04T12:00,gpu\n")
    result = invoke_planner("calibrate", str(path), "--nodes", "2", *args, "--out",
                            str(tmp_path / "o"), "-q")
    assert result.exit_code == 0, result.stderr
    record = json.loads((tmp_path / "o" / "calibration.json").read_text())
    assert record["window_days"] == days and record["faults"] == 2
    assert record["repair_hours"]["fit_gpu"]["kaplan_meier"]["p90"] == 24.0  # 12 h and 24 h


@pytest.mark.parametrize(("text", "expected"), [
    ("node_id,fault_start,fault_end,category\nn2,3\n", "log.csv:2 fault_end: the row has no"),
    ('{"node_id": "a", "fault_start": ' + "9" * 400 + ', "category": "gpu"}\n',
     "log.csv:1 fault_start: is too large a day number"),
])
def test_short_rows_and_huge_numbers_are_one_line(tmp_path, text, expected):
    fmt = "jsonl" if text.startswith("{") else "csv"
    with pytest.raises(InputError) as err:
        read_log(_csv(tmp_path, text), fmt, 5, Window(10.0))
    assert str(err.value).replace(str(tmp_path) + "/", "").startswith(expected), str(err.value)


def test_a_csv_with_a_byte_order_mark_is_read(tmp_path):
    path = _csv(tmp_path, "\ufeffnode_id,fault_start,fault_end,category\na,1,2,gpu\n")
    assert len(read_log(path, "csv", 2, Window(10.0)).faults) == 1


def test_two_classes_with_one_fitted_name_are_an_error(tmp_path):
    from planner.calibration.mapping import Likeness
    from planner.calibration.record import calibrate

    path = _csv(tmp_path, "node_id,fault_start,fault_end,category\na,1,2,gpu\nb,1,2,GPU\n")
    log = read_log(path, "csv", 2, Window(10.0))
    with pytest.raises(InputError, match="'GPU' and 'gpu' would both be fitted as 'fit_gpu'"):
        calibrate(log, shipped_catalog(), {"gpu": Likeness("gpu"), "GPU": Likeness("gpu")})


def test_fitted_categories_stay_out_of_other_pools_and_the_optimizer(tmp_path):
    from planner.calibration.fragment import fragment
    from planner.calibration.record import calibrate
    from planner.procurement import nominal_availability
    from planner.scenario.loader import load_scenario

    log = read_log(TRACE, "stepfun", 400, Window(348.0))
    fit = calibrate(log, shipped_catalog(), resolve(log.categories(), shipped_catalog(),
                                                    stepfun_map(), {}, "trace"))
    before = load_scenario("scenarios/mixed-h800-ascend.yaml")
    first_pool = before.scenario.cluster.pools[0].name
    after = load_scenario("scenarios/mixed-h800-ascend.yaml", fragments=[
        ("o.yaml", yaml.safe_dump(fragment(fit, first_pool)))])
    other = before.scenario.cluster.pools[1]
    rates = [sum(loaded.catalog.failure_rates_per_hour(other.sku).values())
             for loaded in (before, after)]
    assert rates[0] == pytest.approx(rates[1])  # the other pool keeps the catalog
    assert nominal_availability(after.catalog, "H800") == pytest.approx(
        nominal_availability(before.catalog, "H800"))  # and so does the optimizer
    calibrated = after.scenario.cluster.pools[0]
    only = after.catalog.failure_rates_per_hour(calibrated.sku, None, 1.0, calibrated.categories)
    assert {n for n, r in only.items() if r > 0} == {c.name for c in fit.categories}


def test_a_new_category_without_a_repair_time_is_refused_at_load(tmp_path):
    from planner.scenario.loader import load_scenario

    with pytest.raises(InputError, match="new entry needs repair_hours_median"):
        load_scenario("scenarios/h800-10k.yaml", fragments=[(
            "o.yaml", "catalog: {categories: {x: {label: a, failure_rate_per_1000_node_days: 1,"
            " hard_fraction: 0}}}\n")])


def test_kaplan_meier_quantile_intervals_cover_the_truth_and_narrow_with_data():
    # 200 samples of 100 lognormal repairs: the 95 % intervals of p50 and p90 hold the true
    # quantiles in about 95 % of samples (binomial sd 1.5 %; at least 90 % asked)
    levels = {0.5: np.exp(3.0), 0.9: np.exp(3.0 + stats.norm.ppf(0.9))}
    covered = {level: 0 for level in levels}
    for seed in range(200):
        hours = np.random.default_rng(seed).lognormal(3.0, 1.0, 100)
        sf = stats.ecdf(stats.CensoredData(uncensored=hours)).sf
        for level, truth in levels.items():
            low, high = km_quantile_interval(sf, level)
            assert low <= km_quantile(sf.quantiles, sf.probabilities, level) <= high
            covered[level] += low <= truth <= high
    assert min(covered.values()) >= 180, covered
    widths = []
    for n in (40, 400):
        sf = stats.ecdf(stats.CensoredData(
            uncensored=np.random.default_rng(5).lognormal(3.0, 1.0, n))).sf
        low, high = km_quantile_interval(sf, 0.5)
        widths.append(high - low)
    assert widths[1] < widths[0] / 2
    # a level the lower band never reaches: the interval is open above
    sf = stats.ecdf(stats.CensoredData(uncensored=[1.0, 2.0, 3.0], right=[9.0] * 7)).sf
    assert km_quantile_interval(sf, 0.5)[1] == math.inf


def test_the_empirical_fragment_is_the_logs_kaplan_meier_distribution(tmp_path):
    # GPU repairs of the StepFun trace: the written values and weights give back the log's
    # Kaplan-Meier CDF at every closed repair, and the open-ended rest sits on the longest time
    log = read_log(TRACE, "stepfun", 400, Window(348.0))
    calibration = calibrate(log, shipped_catalog(), resolve(
        log.categories(), shipped_catalog(), stepfun_map(), {}, "trace"))
    written = fragment(calibration, "*", "empirical")["catalog"]["categories"]
    faults = [f for f in log.faults if f.category == "GPU"]
    hours = np.maximum([f.downtime_hours for f in faults], 1 / 60)  # a minute at least
    open_ = np.array([f.censored for f in faults], dtype=bool)
    km = stats.ecdf(stats.CensoredData(uncensored=hours[~open_], right=hours[open_])).sf
    repair = written[fitted_name("GPU")]["repair_hours"]
    values, cdf = np.array(repair["values"]), np.cumsum(repair["weights"])
    assert cdf[-1] == pytest.approx(1.0, abs=1e-5)
    for t in np.unique([float(f"{t:.6g}") for t in hours[~open_]]):  # as written
        assert cdf[np.searchsorted(values, t)] == pytest.approx(
            1 - km.evaluate(t * (1 + 5e-6)), abs=1e-5)  # all times that round to t
    assert values[-1] == pytest.approx(hours.max(), rel=1e-5)


def test_with_lemons_the_fragment_rates_are_the_mixtures_normal_rate(tmp_path):
    # the fleet's rate per up node-day, divided by 1 + share (multiplier - 1), would count
    # lemons' up-time as if they were never in repair; the mixture's own normal-node rate is
    # what the simulator takes, shared out by each class's faults
    log = read_log(TRACE, "stepfun", 400, Window(348.0))
    calibration = calibrate(log, shipped_catalog(), resolve(
        log.categories(), shipped_catalog(), stepfun_map(), {}, "trace"))
    lemon = calibration.lemon
    assert lemon.dispersion_p_value < 0.05
    written = fragment(calibration, "*", "empirical")
    rates = {name: c["failure_rate_per_1000_node_days"]
             for name, c in written["catalog"]["categories"].items()}
    total = sum(c.faults for c in calibration.categories)
    for c in calibration.categories:
        assert rates[c.name] == pytest.approx(
            lemon.base_rate_per_1000_node_days * c.faults / total, rel=1e-5)
    pool = written["cluster"]["calibrated_pools"]["*"]
    assert pool["lemon_fraction"] == pytest.approx(lemon.fraction.estimate, rel=1e-5)
