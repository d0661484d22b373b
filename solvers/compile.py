"""Pyomo model -> the matrices HiGHS takes, one group of constraints at a time.

Pyomo's LinearStandardFormCompiler turns a model into sparse matrices in mixed <=/=/>= form.
Its transient (the linear representation of every row at once) was the largest item of a big
model's peak memory, above the expression trees themselves (at 300 scenarios: 140 MB against
79 MB for every constraint family). `LpCompiler` compiles a few constraint components at a
time, so that a model builder can hand each family off and delete it before building the
next: the transient and the expressions of one family are held at a time, never the whole
model's. The columns come out in the model's declaration order.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass

import numpy as np

from solvers.pyomo_env import pyo


def row_key(con) -> tuple[str, object]:
    """How a row is named after its constraint is gone: (constraint family, index)."""
    return con.parent_component().local_name, con.index()


@dataclass
class CompiledLp:
    """A compiled model: `columns` (VarData per column); per row its key (family, index: see
    row_key; None where not kept: HiGHS has the row, the planner never reads it again), the
    limit it was compiled with (the constraint's upper bound for <= and ==, lower for >=, in
    the row's units; NaN where not kept), sense (1 <=, -1 >=, 0 ==) and right-hand side (the
    limit less the constants the compiler moved out of the body); the matrix (CSC, rows x
    columns), the objective's coefficients and constant, and the variables the compiler
    eliminated ((var, expression) pairs). Keys, not constraints: a constraint holds its
    expression, most of a large model's memory."""

    columns: list
    row_keys: list
    row_limits: np.ndarray
    row_senses: np.ndarray
    rhs: np.ndarray
    matrix: object  # scipy.sparse.csc_array
    costs: np.ndarray
    offset: float
    eliminated: list


def _standard_form_compiler():
    """Pyomo's LinearStandardFormCompiler, with its matrix hooks set to numpy and scipy.sparse
    directly (scipy.sparse alone: solvers/pyomo_env.py). The matrix hooks are class attributes
    Pyomo documents as meant to be changed."""
    import scipy.sparse
    from pyomo.repn.plugins.standard_form import (
        LinearStandardFormCompiler,
        _LinearStandardFormCompiler_impl,
    )

    impl = _LinearStandardFormCompiler_impl
    if impl._to_vector is None:
        impl._to_vector = np.fromiter
        impl._csc_matrix = scipy.sparse.csc_array
        impl._csr_matrix = scipy.sparse.csr_array
    return LinearStandardFormCompiler()


class LpCompiler:
    """Accumulates the rows of successive `add` calls and the objective of `add_objective`
    into one CompiledLp (`finish`)."""

    def __init__(self) -> None:
        self._compiler = _standard_form_compiler()
        self._column_of: dict[int, int] = {}  # id(VarData) -> column
        self._columns: list = []
        self._keys: list = []
        self._limits: list[np.ndarray] = []
        self._senses: list[np.ndarray] = []
        self._rhs: list[np.ndarray] = []
        self._entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # rows, cols, values
        self._rows = 0
        self._costs: dict[int, float] = {}
        self._offset = 0.0
        self._eliminated: list = []

    def _write(self, model: pyo.ConcreteModel, components: Iterable, objective: bool):
        """The compiler's output for `components` only (and the active objective when
        `objective`): every other active constraint and objective is deactivated meanwhile."""
        wanted = {id(c) for c in components}
        off = [c for c in model.component_objects((pyo.Constraint, pyo.Objective), active=True)
               if id(c) not in wanted and not (objective and c.ctype is pyo.Objective)]
        for c in off:
            c.deactivate()
        try:
            return self._compiler.write(model, mixed_form=True)
        finally:
            for c in off:
                c.activate()

    def _global_columns(self, variables: list) -> np.ndarray:
        """The columns of `variables` (the compiler's own numbering of one call) in the whole
        problem, numbering the new ones next."""
        index = np.empty(len(variables), dtype=np.int64)
        for i, v in enumerate(variables):
            column = self._column_of.get(id(v))
            if column is None:
                column = self._column_of[id(v)] = len(self._columns)
                self._columns.append(v)
            index[i] = column
        return index

    def add(self, model: pyo.ConcreteModel, components: Iterable,
            keep_rows: bool | Container[str] = True) -> None:
        """Compile the constraint components `components` of `model` and append their rows;
        the rows' keys and limits are remembered for every row (`keep_rows` True), none
        (False), or the rows of the families named in `keep_rows`."""
        info = self._write(model, components, objective=False)
        self._append_rows(info, keep_rows)

    def add_objective(self, model: pyo.ConcreteModel) -> None:
        """Compile the active objective of `model` (its coefficients and constant)."""
        info = self._write(model, [], objective=True)
        self._append_rows(info, keep_rows=True)
        if info.c.shape[0]:
            row = info.c.tocsr()
            columns = self._global_columns(list(info.columns))
            for j, value in zip(row.indices, row.data, strict=True):
                self._costs[int(columns[j])] = self._costs.get(int(columns[j]), 0.0) + float(value)
        if len(info.c_offset):
            self._offset += float(info.c_offset[0])

    def _append_rows(self, info, keep_rows: bool | Container[str]) -> None:
        rows = info.rows
        if not rows:
            self._eliminated.extend(info.eliminated_vars)
            return
        columns = self._global_columns(list(info.columns))
        a = info.A.tocoo()
        self._entries.append((a.row.astype(np.int64) + self._rows, columns[a.col],
                              a.data.astype(float)))
        if keep_rows is True or keep_rows is False:
            kept = [keep_rows] * len(rows)
        else:
            kept = [row.constraint.parent_component().local_name in keep_rows for row in rows]
        self._keys.extend(row_key(row.constraint) if keep else None
                          for row, keep in zip(rows, kept, strict=True))
        self._limits.append(np.fromiter(
            (pyo.value(row.constraint.upper if row.bound_type >= 0 else row.constraint.lower)
             if keep else np.nan for row, keep in zip(rows, kept, strict=True)),
            dtype=float, count=len(rows)))
        self._senses.append(np.fromiter((row.bound_type for row in rows), dtype=np.int8,
                                        count=len(rows)))
        self._rhs.append(np.asarray(info.rhs, dtype=float))
        self._eliminated.extend(info.eliminated_vars)
        self._rows += len(rows)

    def finish(self, model: pyo.ConcreteModel) -> CompiledLp:
        """The whole problem compiled so far, its columns in `model`'s declaration order (each
        Var component's data in index order), whatever order the calls met them in: the order
        of a compile at once, and one an interior point's ordering does well on. The compiler
        lets go of its pieces."""
        import scipy.sparse

        n = len(self._columns)
        seen = [self._column_of.get(id(v)) for v in model.component_data_objects(pyo.Var)]
        order = [i for i in seen if i is not None]
        order += sorted(set(range(n)) - set(order))  # variables of no Var component of `model`
        rank = np.empty(n, dtype=np.int64)
        rank[np.asarray(order, dtype=np.int64)] = np.arange(n)
        if self._entries:
            rows, cols, values = (np.concatenate(part) for part in zip(*self._entries,
                                                                        strict=True))
        else:
            rows = cols = np.zeros(0, dtype=np.int64)
            values = np.zeros(0)
        self._entries = []
        matrix = scipy.sparse.coo_array((values, (rows, rank[cols])),
                                        shape=(self._rows, n)).tocsc()
        del rows, cols, values
        costs = np.zeros(n)
        for column, value in self._costs.items():
            costs[rank[column]] = value
        return CompiledLp(
            columns=[self._columns[i] for i in order], row_keys=self._keys,
            row_limits=np.concatenate(self._limits) if self._limits else np.zeros(0),
            row_senses=(np.concatenate(self._senses) if self._senses
                        else np.zeros(0, dtype=np.int8)),
            rhs=np.concatenate(self._rhs) if self._rhs else np.zeros(0),
            matrix=matrix, costs=costs, offset=self._offset, eliminated=self._eliminated)


def release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim; nothing elsewhere).
    After a big model is compiled, the freed rows and compiler temporaries leave most of the
    heap free but mapped; HiGHS's solve then allocates its own memory beside them instead of
    reusing them, and the peak counts both (at 1,000 scenarios, 87 MB of 643)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is not None:
        trim(0)


def compile_whole(model: pyo.ConcreteModel) -> CompiledLp:
    """Every active constraint and objective of `model` at once."""
    compiler = LpCompiler()
    compiler.add(model, list(model.component_objects(pyo.Constraint, active=True)))
    compiler.add_objective(model)
    return compiler.finish(model)
