"""The model compiled family by family as it is built (what optimize does) is the same LP as the
whole model compiled at once: the same rows with the same coefficients, senses and limits, the
same objective, and the same optimum."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

from solvers.compile import CompiledLp, LpCompiler, compile_whole
from solvers.highs import HighsModel
from solvers.model import build_model
from solvers.optimize import PRICED, READ_AFTER_SOLVE, compile_model
from solvers.problem import RiskSettings, SolverSettings
from tests.solvers.instances import instance


def _rows(lp: CompiledLp, names: list[str]) -> list[tuple]:
    """Every row as (sense, rhs, {column name: coefficient}), in order."""
    csr = lp.matrix.tocsr()
    out = []
    for i in range(csr.shape[0]):
        start, end = csr.indptr[i], csr.indptr[i + 1]
        coefficients = {names[j]: round(float(v), 12)
                        for j, v in zip(csr.indices[start:end], csr.data[start:end], strict=True)}
        out.append((int(lp.row_senses[i]), round(float(lp.rhs[i]), 12), coefficients))
    return out


def _costs(lp: CompiledLp, names: list[str]) -> dict:
    return {names[j]: round(float(c), 12) for j, c in enumerate(lp.costs) if c != 0.0}


@pytest.mark.parametrize("inp", [
    instance(),
    instance(periods=4, risk=RiskSettings(alpha=0.9, weight=0.5)),
    instance(with_stockpile=False, allow_unmet=False, total_budget_usd=9e6),
], ids=["base", "cvar", "no-stockpile"])
def test_family_by_family_is_the_whole_model(inp):
    whole_model = build_model(inp)
    whole = compile_whole(whole_model)

    compiler = LpCompiler()
    streamed_model = build_model(inp, hand_off=lambda m, components: compiler.add(m, components))
    compiler.add_objective(streamed_model)
    streamed = compiler.finish(streamed_model)

    whole_names = [v.name for v in whole.columns]
    streamed_names = [v.name for v in streamed.columns]
    declared = [v.name for v in streamed_model.component_data_objects(pyo.Var)]
    assert streamed_names == whole_names
    assert streamed_names == [name for name in declared if name in set(streamed_names)]
    assert _rows(streamed, streamed_names) == _rows(whole, whole_names)
    assert _costs(streamed, streamed_names) == _costs(whole, whole_names)
    assert streamed.offset == pytest.approx(whole.offset, abs=1e-12)
    assert streamed.row_keys == whole.row_keys
    assert streamed.row_limits == pytest.approx(whole.row_limits, rel=1e-12)


def test_compile_model_keeps_only_the_rows_read_after_the_solve_and_solves_alike():
    """compile_model deletes every constraint once compiled; it remembers the keys and limits
    of the rows an analysis reads, and those are the constraints' own."""
    inp = instance(periods=4)
    settings = SolverSettings(mip_rel_gap=0.0)
    m, hm, _ = compile_model(inp, settings)
    kept = {*PRICED, *READ_AFTER_SOLVE}
    families = {key[0] for key in hm.row_keys if key is not None}
    assert families and families <= kept
    assert not list(m.component_objects(pyo.Constraint))
    reference = build_model(inp)
    for key in hm.rows("budget_period"):
        assert hm.limit(key) == pytest.approx(pyo.value(reference.budget_period[key[1]].upper))
    streamed = hm.solve()
    whole = HighsModel(build_model(inp), settings).solve()
    assert streamed.status == whole.status == "optimal"
    assert streamed.objective == pytest.approx(whole.objective, rel=1e-9)
    # HiGHS holds every row of the model, released or not
    assert len(hm.row_keys) == len(compile_whole(build_model(inp)).row_keys)


def test_released_rows_are_not_remembered():
    inp = instance()
    compiler = LpCompiler()
    held = set()

    def hand_off(m, components):
        for con in components:
            compiler.add(m, [con], keep_rows=con.local_name == "budget_period")
            if con.local_name == "budget_period":
                held.update(("budget_period", i) for i in con)

    model = build_model(inp, hand_off=hand_off)
    compiler.add_objective(model)
    lp = compiler.finish(model)
    remembered = [k for k in lp.row_keys if k is not None]
    assert remembered and set(remembered) == held
    assert len(lp.row_keys) > len(remembered)


def _highs_lp(hm: HighsModel) -> tuple:
    """HiGHS's copy of the problem: costs, column bounds, row bounds and the CSC matrix."""
    lp = hm.h.getLp()
    return (list(lp.col_cost_), list(lp.col_lower_), list(lp.col_upper_), list(lp.row_lower_),
            list(lp.row_upper_), list(lp.a_matrix_.start_), list(lp.a_matrix_.index_),
            list(lp.a_matrix_.value_))


@pytest.mark.parametrize("inp", [
    instance(),
    instance(periods=4, risk=RiskSettings(alpha=0.9, weight=0.5)),
], ids=["base", "cvar"])
def test_one_pass_and_family_by_family_hand_the_same_lp_to_highs(inp, monkeypatch):
    """compile_model compiles a small model in one pass once built, a large one family by
    family as it is built: HiGHS gets the same problem, the planner the same row keys."""
    settings = SolverSettings()
    m_one, one, _ = compile_model(inp, settings)
    import solvers.optimize as optimize_module

    monkeypatch.setattr(optimize_module, "COLLECT_FROM_SCENARIOS", 1)
    m_streamed, streamed, _ = compile_model(inp, settings)
    assert [v.name for v in one.columns] == [v.name for v in streamed.columns]
    assert _highs_lp(one) == _highs_lp(streamed)
    assert one.row_keys == streamed.row_keys
    assert not list(m_one.component_objects(pyo.Constraint))
    assert not list(m_streamed.component_objects(pyo.Constraint))
