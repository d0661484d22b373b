"""The policy-event library: every event sourced, hazards as counts over the window with exact
Poisson intervals, bad files as one line, `planner catalog --events`."""

from __future__ import annotations

import math

import pytest
import yaml
from scipy import stats

from planner.catalog.policy_events import (
    EVENT_TYPES,
    hazard_estimate,
    hazard_estimates,
    library_path,
    load_policy_events,
    median_price_factor,
    poisson_interval,
)
from tests.conftest import invoke_planner


def test_the_shipped_library_is_sourced_and_in_its_window():
    library = load_policy_events()
    assert len(library.events) >= 10
    for e in library.events:
        assert e.source.url.startswith("https://") or e.source.url.startswith("http://")
        assert e.source.publisher and e.source.title
        assert library.window.from_ <= e.date <= library.window.to
        assert e.type in EVENT_TYPES
    assert {e.type for e in library.events} >= {"vendor_node_block", "block_lifted",
                                                 "price_premium", "domestic_output_cap"}


@pytest.mark.parametrize("events", [0, 1, 3, 11, 40])
def test_poisson_interval_is_garwood(events):
    exposure = 16.7
    low, high = poisson_interval(events, exposure)
    want_low = stats.chi2.ppf(0.025, 2 * events) / 2 if events else 0.0
    want_high = stats.chi2.ppf(0.975, 2 * events + 2) / 2
    assert low * exposure == pytest.approx(want_low, rel=1e-9)
    assert high * exposure == pytest.approx(want_high, rel=1e-9)
    # the interval's ends are where the Poisson tails reach 2.5 %
    if events:
        assert stats.poisson.sf(events - 1, low * exposure) == pytest.approx(0.025, rel=1e-6)
    assert stats.poisson.cdf(events, high * exposure) == pytest.approx(0.025, rel=1e-6)


def test_hazards_count_each_type_over_the_window():
    library = load_policy_events()
    estimates = hazard_estimates(library)
    quarters = ((library.window.to - library.window.from_).days + 1) / (365.25 / 4)
    for event_type, h in estimates.items():
        n = sum(e.type == event_type for e in library.events)
        assert h.events == n
        assert h.rate_per_quarter == pytest.approx(n / quarters)
        assert h.ci95[0] <= h.rate_per_quarter <= h.ci95[1]
        assert h.probability_per_quarter == pytest.approx(1 - math.exp(-h.rate_per_quarter))
    nvidia = hazard_estimate(library, "vendor_node_block", ["Nvidia"])
    assert nvidia.events == sum(e.type == "vendor_node_block" and "nvidia" in e.touches.vendors
                                for e in library.events)


def test_median_price_factor_is_the_median_premium():
    library = load_policy_events()
    premiums = sorted(e.touches.price_premium_pct for e in library.events
                      if e.type == "price_premium" and e.touches.price_premium_pct)
    factor, source = median_price_factor(library)
    n = len(premiums)
    median = premiums[n // 2] if n % 2 else (premiums[n // 2 - 1] + premiums[n // 2]) / 2
    assert factor == pytest.approx(1 + median / 100)
    assert f"{n} reported" in source


def _library_text(**change) -> str:
    data = yaml.safe_load(library_path().read_text())
    event = data["events"][0]
    for key, value in change.items():
        event[key] = value
    return yaml.safe_dump(data)


@pytest.mark.parametrize("change, pattern", [
    ({"type": "embargo"}, "events.0.type"),
    ({"source": {"publisher": "x", "title": "y", "date": "2023-01-01", "url": "not a url"}},
     "events.0.source.url"),
    ({"date": "2019-01-01"}, "outside the window"),
    ({"mood": "bad"}, "events.0.mood"),
])
def test_a_bad_library_is_one_line(tmp_path, change, pattern):
    path = tmp_path / "events.yaml"
    path.write_text(_library_text(**change))
    with pytest.raises(ValueError) as info:
        load_policy_events(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message and pattern in message


def test_catalog_events_lists_the_library_and_its_hazards():
    result = invoke_planner("catalog", "--events", "--sources")
    assert result.exit_code == 0, result.output
    library = load_policy_events()
    text = " ".join(result.output.split())
    for e in library.events:
        assert str(e.date) in result.output
    assert "Hazards," in text and "vendor_node_block" in text
    for e in library.events:  # each citation's date is printed (URLs wrap across lines)
        assert str(e.source.date) in result.output
