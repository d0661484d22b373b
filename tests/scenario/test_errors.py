"""Bad scenario files: one line naming file, line and field; exit code 2; no traceback."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, invoke_planner

EXAMPLE = (ROOT / "scenarios" / "h800-10k.yaml").read_text()


def _edit(path_fn):
    data = yaml.safe_load(EXAMPLE)
    path_fn(data)
    return yaml.safe_dump(data, sort_keys=False)


CASES = {
    "wrong type": (
        EXAMPLE.replace("nodes: 1280", "nodes: many"),
        r"cluster\.pools\[0\]\.nodes: input should be a valid integer",
    ),
    "negative count": (
        EXAMPLE.replace("nodes: 1280", "nodes: -4"),
        r"cluster\.pools\[0\]\.nodes: must be >= 0",
    ),
    "zero job nodes": (
        EXAMPLE.replace("nodes: 1024", "nodes: 0"),
        r"jobs\[0\]\.nodes: must be > 0",
    ),
    "unknown sku": (
        EXAMPLE.replace("sku: H800", "sku: H900"),
        r"cluster\.pools\[0\]\.sku: unknown SKU 'H900'",
    ),
    "window dates out of order": (
        EXAMPLE.replace("window_end_date: 2027-12-31", "window_end_date: 2026-12-31"),
        r"supply_shocks\[0\]: window_end_date is before window_start_date",
    ),
    "unknown key": (
        EXAMPLE.replace("horizon_days: 365", "horizon_days: 365\nhorizon_weeks: 52"),
        r"horizon_weeks: unknown field",
    ),
    "unknown nested key": (
        EXAMPLE.replace("      lemon_fraction:", "      lemmon_fraction: 0.1\n      lemon_fraction:"),
        r"cluster\.pools\[0\]\.lemmon_fraction: unknown field",
    ),
    "malformed yaml": (
        EXAMPLE.replace("  pools:\n", "  pools: [\n"),
        r"malformed YAML",
    ),
    "bad distribution": (
        EXAMPLE.replace("{dist: lognormal, median: 14, sigma: 0.5}", "{dist: poisson, mean: 3}"),
        r"cluster\.spares\.default\.lead_time_days: ",
    ),
    "unknown pool in job": (
        EXAMPLE.replace("pool: h800\n    nodes: 248", "pool: h900\n    nodes: 248"),
        r"jobs\[1\]\.pool: unknown pool 'h900'",
    ),
    "job bigger than pool": (
        EXAMPLE.replace("nodes: 1024", "nodes: 4096"),
        r"jobs\[0\]\.nodes: 4096 nodes \+ 0 standby exceed pool 'h800'",
    ),
    "delivery before start": (
        EXAMPLE.replace("      lemon_fraction:",
                        "      deliveries: [{date: 2026-06-01, nodes: 8}]\n      lemon_fraction:"),
        r"cluster\.pools\[0\]\.deliveries\[0\]\.date: 2026-06-01 is before start_date",
    ),
    "deliveries out of order": (
        EXAMPLE.replace("      lemon_fraction:",
                        "      deliveries: [{date: 2027-06-01, nodes: 8}, {date: 2027-03-01, nodes: 8}]"
                        "\n      lemon_fraction:"),
        r"cluster\.pools\[0\]: deliveries must be in date order",
    ),
    "absurd node count": (
        EXAMPLE.replace("nodes: 1280", "nodes: 1280000000000"),
        r"cluster\.pools\[0\]\.nodes: must be <= 10000000",
    ),
    "timeseries step too fine": (
        EXAMPLE.replace("timeseries_step_days: 1", "timeseries_step_days: 0.000001"),
        r"simulation\.timeseries_step_days: gives 365,000,000 samples over 365 days",
    ),
    "runaway failure rate": (
        EXAMPLE.replace("lemon_rate_multiplier: 10 ", "lemon_rate_multiplier: 1000000000000 ", 1),
        r"cluster\.pools\[0\]: about 2\.1e\+13 failure events per replication",
    ),
    "not a number": (
        EXAMPLE.replace("restart_hours: 0.25", "restart_hours: .nan", 1),
        r"jobs\[0\]\.restart_hours: input should be a finite number",
    ),
    "not a mapping": ("- just\n- a list\n", r"a scenario must be a YAML mapping"),
    "duplicate key": (
        EXAMPLE.replace("horizon_days: 365", "horizon_days: 365\nhorizon_days: 30"),
        r"malformed YAML: duplicate key 'horizon_days'",
    ),
}


def _one_line_exit_2(result, path) -> str:
    """The command exited with code 2 and one line on stderr naming `path`, no traceback."""
    assert result.exit_code == 2, (result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # not an uncaught error
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{path}:") or lines[0].startswith(f"{path} "), lines[0]
    return lines[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_gives_one_line_error_and_exit_2(case, tmp_path):
    text, pattern = CASES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    for args in (("validate",), ("run", "--out", str(tmp_path / "out"))):
        line = _one_line_exit_2(invoke_planner(args[0], str(path), *args[1:]), path)
        assert re.search(pattern, line), line
        assert not (tmp_path / "out").exists(), "nothing may be written for a bad input"


@pytest.mark.slow
def test_the_installed_command_prints_the_one_line_too(planner_cli, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(CASES["negative count"][0])
    proc = planner_cli("run", str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert re.search(CASES["negative count"][1], proc.stderr)
    assert not (tmp_path / "out").exists()


def test_error_names_the_line_of_the_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(CASES["negative count"][0])
    line = next(i for i, text in enumerate(CASES["negative count"][0].splitlines(), 1)
                if "nodes: -4" in text)
    result = invoke_planner("validate", str(path))
    assert result.stderr.startswith(f"{path}:{line} cluster.pools[0].nodes: must be >= 0")


def test_missing_file_and_bad_override(tmp_path):
    result = invoke_planner("validate", str(tmp_path / "nope.yaml"))
    assert "file not found" in _one_line_exit_2(result, tmp_path / "nope.yaml")
    good = tmp_path / "good.yaml"
    good.write_text(EXAMPLE)
    result = invoke_planner("validate", str(good), "--set", "cluster.pools[5].nodes=3")
    assert "no list element [5]" in _one_line_exit_2(result, good)
    result = invoke_planner("validate", str(good), "--set", "cluster.pools[0].nodes=-3")
    assert "cluster.pools[0].nodes: must be >= 0" in _one_line_exit_2(result, good)


def test_an_input_error_survives_a_contextmanager_as_itself():
    from contextlib import contextmanager

    from planner.errors import InputError

    @contextmanager
    def scope():
        yield

    with pytest.raises(InputError, match="x.yaml:3 a.b: bad"), scope():
        raise InputError("x.yaml", "bad", line=3, field="a.b")


MUTANTS = [-1, 0, 0.5, 1e308, float("nan"), float("inf"), "x", "", None, [], {}, True, [1],
           {"a": 1}, "2027-13-01", "1999-01-01", "2100-01-01", 10**12, "auto",
           {"dist": "lognormal"}, {"dist": "gamma", "mean": 0, "shape": 0},
           {"dist": "uniform", "low": 5, "high": 1}, {"dist": "weibull", "scale": -1, "shape": 1}]


def _leaf_paths(node, prefix=()):
    if prefix:
        yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _leaf_paths(value, (*prefix, key))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(MUTANTS)), min_size=1, max_size=3))
def test_any_mutated_scenario_runs_or_gives_the_one_line_error(mutations):
    from planner.errors import InputError
    from planner.scenario.loader import load_scenario_text
    from planner.sim.model import simulate
    from planner.sim.setup import build_setup

    data = yaml.safe_load(EXAMPLE)
    for pick, value in mutations:
        paths = list(_leaf_paths(data))
        *parents, key = paths[pick % len(paths)]
        node = data
        for parent in parents:
            node = node[parent]
        node[key] = copy.deepcopy(value)  # a shared list or mapping could end up inside itself
    try:
        loaded = load_scenario_text(yaml.safe_dump(data, sort_keys=False), "m.yaml",
                                    ("horizon_days=5",))
    except InputError as err:
        assert str(err).startswith("m.yaml") and "\n" not in str(err), str(err)
        return
    simulate(build_setup(loaded.scenario, loaded.catalog), 0)


@pytest.mark.parametrize(("sets", "seed", "expected"), [
    (("a.b=1",), None, "s.yaml --set a.b=1: a: unknown field"),
    (("jobs[0].pool=h900",), None, "s.yaml --set jobs[0].pool=h900: jobs[0].pool: unknown pool 'h900'"),
    ((), -1, "s.yaml --seed -1: seed: must be >= 0"),
])
def test_a_bad_value_from_the_command_line_names_the_option_not_a_file_line(sets, seed, expected):
    from planner.errors import InputError
    from planner.scenario.loader import load_scenario_text

    with pytest.raises(InputError) as caught:
        load_scenario_text(EXAMPLE, "s.yaml", sets, seed=seed)
    assert str(caught.value) == expected


def test_an_unknown_pool_sku_is_reported_even_with_a_procurement_section():
    from planner.errors import InputError
    from planner.scenario.loader import load_scenario_text

    text = (ROOT / "scenarios" / "procurement-2027.yaml").read_text()
    with pytest.raises(InputError, match=r"cluster\.pools\[0\]\.sku: unknown SKU 'NOPE'"):
        load_scenario_text(text, "p.yaml", ("cluster.pools[0].sku=NOPE",))


PROCUREMENT = (ROOT / "scenarios" / "procurement-2027.yaml").read_text()


@pytest.mark.parametrize(("sets", "expected"), [
    (("procurement.platform_utilization={CUDA: 0.4}",),
     r"^p\.yaml --set \S+ \S+: procurement: platform_utilization is replaced by `workload` "
     r"\(dense or moe\) and `utilization` per SKU"),
    (("procurement.utilization={H999: 0.4}",),
     r"^p\.yaml --set \S+ \S+: procurement\.utilization\.H999: SKU 'H999' is neither "
     r"installed, a candidate nor the rental SKU$"),
    (("procurement.utilization={H800: 1.5}",),
     r": procurement\.utilization\.H800: must be <= 1"),
    (("procurement.workload=sparse",), r"procurement\.workload: input should be 'dense' or 'moe'"),
    (("procurement.discount_rate=-0.1",), r"procurement\.discount_rate: must be >= 0"),
    (("catalog={skus: {MLU590: {mfu: {dense: {value: 0.3, low: 0.35}}}}}",),
     r"catalog\.skus\.MLU590\.mfu\.dense: needs low <= value <= high"),
])
def test_procurement_utilization_and_discount_errors_are_one_line(sets, expected):
    from planner.errors import InputError
    from planner.scenario.loader import load_scenario_text

    with pytest.raises(InputError) as caught:
        load_scenario_text(PROCUREMENT, "p.yaml", sets)
    assert re.search(expected, str(caught.value)), str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unreadable_file_is_one_line(tmp_path, monkeypatch):
    import builtins

    path = tmp_path / "locked.yaml"
    path.write_text(EXAMPLE)
    real_open = builtins.open

    def denied(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denied)
    line = _one_line_exit_2(invoke_planner("validate", str(path)), path)
    assert line == f"{path} cannot read: Permission denied"
