"""Where optimization meets simulation (and only here, besides studies): the chosen plan as
dated deliveries and stock for the simulator (plan.py), and the availability a stockpile buys
under a parts block, measured by the simulator for the optimizer (availability.py)."""

from planner.bridge.plan import apply_plan, plan_deliveries, plan_stockpile, scenario_outcomes

__all__ = ["apply_plan", "plan_deliveries", "plan_stockpile", "scenario_outcomes"]
