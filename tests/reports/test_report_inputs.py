"""Small pieces of the reports: summary.json walking, units, flattening inputs and telling
where a scenario field came from, text escaping of the page."""

from __future__ import annotations

import math

import pytest
from report_helpers import require_soffice

from planner.reports.assumptions import _origin, cell, flatten
from planner.reports.html import text
from planner.reports.series import weighted_quantile
from planner.reports.tables import optimization_figures, summary_metrics
from planner.reports.units import metric_unit, nearly_whole, optimization_unit, shadow_price_unit, show

STATS = {"n": 2, "mean": 1.0, "std": 0.0, "p10": 1.0, "p50": 1.0, "p90": 1.0, "ci95": None}


def test_summary_metrics_split_metric_and_key_at_the_last_level():
    summary = {"scenario": "x", "checkpoint_interval_hours": {"job": 0.5},
               "ettr": {"job": STATS}, "goodput_gpu_hours": STATS,
               "interruptions": {"total": STATS, "by_category": {"gpu": STATS}},
               "stockout_days": {"H800/gpu_board": STATS}}
    assert [(m, k) for m, k, _ in summary_metrics(summary)] == [
        ("ettr", "job"), ("goodput_gpu_hours", None), ("interruptions", "total"),
        ("interruptions.by_category", "gpu"), ("stockout_days", "H800/gpu_board")]


def test_optimization_figures_are_named_like_summary_metrics_and_text_goes_to_the_key():
    data = {"scenario": "x", "source": "x.yaml", "version": "0.1.0", "status": "optimal",
            "gap": 1e-4, "bound": None, "value_of_information": {"vss_usd": None, "ok": False},
            "orders_by_vendor_nodes": {"Nvidia": 250.0}}
    assert optimization_figures(data) == [
        ("status", "optimal", "", None), ("gap", None, "fraction", 1e-4), ("bound", None, "USD", None),
        ("value_of_information", "vss_usd", "USD", None), ("value_of_information.ok", "false", "", None),
        ("orders_by_vendor_nodes", "Nvidia", "nodes", 250.0)]
    assert optimization_unit("cvar_shortfall_pflops_hours") == "PFLOP/s-hours"
    assert optimization_unit("worst_case_shortfall_pflops") == "PFLOP/s"
    assert optimization_unit("timings_s.build_and_solve") == "seconds"
    assert shadow_price_unit("power_cap_mw") == "USD per MW"
    assert shadow_price_unit("budget_usd") == "USD per USD"


def test_weighted_quantile_is_the_least_value_reaching_the_probability():
    values, weights = [5.0, 1.0, 3.0], [0.6, 0.4, 0.0]
    assert weighted_quantile(values, weights, 0.1) == 1.0
    assert weighted_quantile(values, weights, 0.4) == 1.0  # P(X <= 1) = 0.4 exactly
    assert weighted_quantile(values, weights, 0.5) == 5.0  # 3.0 has no probability
    assert weighted_quantile(values, weights, 0.9) == 5.0
    assert weighted_quantile([2.0, 4.0], [1.0, 1.0], 0.5) == 2.0  # weights are normalised
    assert math.isnan(weighted_quantile([1.0], [0.0], 0.5))


def test_units_of_metrics_and_how_numbers_are_shown():
    assert metric_unit("ettr") == "fraction"
    assert metric_unit("interruptions.by_category") == "count"
    assert metric_unit("parts_spend_usd") == "USD"
    assert metric_unit("some_new_cost_usd") == "USD"
    assert metric_unit("unknown") == ""
    assert show(0.8766, "fraction") == "87.7 %"
    assert show(1620762.5, "USD") == "$1,620,762"
    assert show(None, "days") == "–" and show(math.nan, "days") == "–"
    assert show(-172860250.6, "USD") == "-$172,860,251"
    assert show(-854348.117, "USD per MW") == "-$854,348.12"
    assert show(311970766.9, "USD millions") == "$312.0M"
    assert show(4.5e-06, "fraction") == "0.00045 %"
    assert nearly_whole(8.000000000000073) and not nearly_whole(122.64)


def test_flatten_and_cells_keep_every_value():
    data = {"a": {"b": [1, {"c": None}], "d": {}, "e": []}, "f": True, "g": "2027-01-01"}
    assert list(flatten(data, "")) == [("a.b[0]", 1), ("a.b[1].c", None), ("a.d", "{}"),
                                       ("a.e", "[]"), ("f", True), ("g", "2027-01-01")]
    assert cell(1280) == (1280.0, None)
    assert cell(True) == (None, "true")
    assert cell(None) == (None, "null")
    assert cell(2**63) == (None, str(2**63))  # not exact as a float: kept as text


def test_origin_of_scenario_fields():
    file_data = {"horizon_days": 365, "cluster": {"pools": [{"name": "p", "nodes": 10}],
                                                  "spares": {"default": {"lead_time_days": 14}}}}
    overrides = ["horizon_days=60", "jobs[0].restart_hours=1"]
    assert _origin("horizon_days", file_data, overrides) == "--set"
    assert _origin("jobs[0].restart_hours", file_data, overrides) == "--set"
    assert _origin("cluster.pools[0].nodes", file_data, overrides) == "scenario.yaml"
    assert _origin("cluster.pools[0].lemon_fraction", file_data, overrides) == "default"
    assert _origin("cluster.pools[1].nodes", file_data, overrides) == "default"
    # a shorthand in the file (14) resolved to {dist: fixed, value: 14}
    assert _origin("cluster.spares.default.lead_time_days.dist", file_data, overrides) == "scenario.yaml"


def test_page_text_is_escaped_and_never_holds_a_url():
    assert text("<b> & https://example.org") == "&lt;b&gt; &amp; https:&#47;&#47;example.org"
    assert "://" not in text("see http://x")


def test_study_metric_units_follow_the_metric_name():
    from planner.reports.units import study_metric_unit

    assert study_metric_unit("ettr.pretrain-8k") == "fraction"
    assert study_metric_unit("interruptions.by_category.gpu") == "count"
    assert study_metric_unit("interruptions.total") == "count"
    assert study_metric_unit("stockout_days.H800/gpu_board") == "days"
    assert study_metric_unit("lost_gpu_hours.failure") == "GPU-hours"
    assert study_metric_unit("goodput_gpu_hours") == "GPU-hours"
    assert study_metric_unit("plan.expected_cost_usd") == "USD"
    assert study_metric_unit("plan.gap") == "fraction"
    assert study_metric_unit("plan.worst_case_shortfall_pflops") == "PFLOP/s"
    assert study_metric_unit("plan.ordered_pflops.Nvidia") == "PFLOP/s"
    assert study_metric_unit("plan.share.Huawei") == "fraction"
    assert study_metric_unit("plan.ordered_nodes") == "nodes"


def test_missing_soffice_skips_without_ci_and_fails_with_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_soffice()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        require_soffice()


def test_bands_leave_out_the_last_sample_of_replications_that_stopped_on_their_own_day():
    import pandas as pd

    from planner.reports.series import band

    # stop: jobs_done: replication 0 ended on day 2.4, replication 1 on day 3.7
    ts = pd.DataFrame({"replication": [0, 0, 0, 0, 1, 1, 1, 1, 1],
                       "day": [0.0, 1.0, 2.0, 2.4, 0.0, 1.0, 2.0, 3.0, 3.7],
                       "x": [1.0, 2.0, 3.0, 9.0, 3.0, 4.0, 5.0, 6.0, 9.0]})
    out = band(ts, ts["x"])
    assert list(out["day"]) == [0.0, 1.0, 2.0, 3.0]  # 2.4 and 3.7: one replication each
    assert out["p50"].tolist() == [2.0, 3.0, 4.0, 6.0]  # day 3: the replication still running
    horizon = ts.assign(day=[0.0, 1.0, 2.0, 3.0] * 2 + [3.0]).iloc[:8]  # both to the horizon
    assert list(band(horizon, horizon["x"])["day"]) == [0.0, 1.0, 2.0, 3.0]
    single = ts[ts["replication"] == 0]
    assert list(band(single, single["x"])["day"]) == [0.0, 1.0, 2.0, 2.4]


def test_study_metrics_read_as_the_registry_names_them():
    """The study page, its figures and the terminal name a metric by its registry label (and
    key), not its flat code name."""
    from planner.reports.units import study_metric_label

    assert study_metric_label("goodput_gpu_hours") == "goodput"
    assert study_metric_label("ettr.pretrain-8k") == "ETTR pretrain-8k"
    assert study_metric_label("stockout_days.H800/gpu_board") == "stock-out days H800/gpu_board"
    assert study_metric_label("plan.expected_cost_usd") == "expected cost"
    assert study_metric_label("something_new_total") == "something new total"
