"""The model compiled family by family as it is built (what optimize does) is the same LP as the
whole model compiled at once: the same rows with the same coefficients, senses and limits, the
same objective, and the same optimum."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from pyomo.common.collections import ComponentSet

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
    assert [c.name for c in streamed.row_constraints] == [c.name for c in whole.row_constraints]


def test_compile_model_keeps_only_the_rows_read_after_the_solve_and_solves_alike():
    inp = instance(periods=4)
    settings = SolverSettings(mip_rel_gap=0.0)
    m, hm, _ = compile_model(inp, settings)
    kept = {*PRICED, *READ_AFTER_SOLVE}
    families = {c.parent_component().local_name for c in hm.row_constraints if c is not None}
    assert families and families <= kept
    left = {c.local_name for c in m.component_objects(pyo.Constraint)}
    assert left and left <= kept
    streamed = hm.solve()
    whole = HighsModel(build_model(inp), settings).solve()
    assert streamed.status == whole.status == "optimal"
    assert streamed.objective == pytest.approx(whole.objective, rel=1e-9)
    # HiGHS holds every row of the model, released or not
    assert len(hm.row_constraints) == len(compile_whole(build_model(inp)).row_constraints)


def test_released_rows_are_not_remembered():
    inp = instance()
    compiler = LpCompiler()
    held = ComponentSet()

    def hand_off(m, components):
        for con in components:
            compiler.add(m, [con], keep_rows=con.local_name == "budget_period")
            if con.local_name == "budget_period":
                held.update(con.values())

    model = build_model(inp, hand_off=hand_off)
    compiler.add_objective(model)
    lp = compiler.finish(model)
    remembered = [c for c in lp.row_constraints if c is not None]
    assert remembered and all(c in held for c in remembered)
    assert len(lp.row_constraints) > len(remembered)
