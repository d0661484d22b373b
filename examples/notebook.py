# %% [markdown]
# # What-if from a notebook: does a bigger GPU-board stockpile pay off?
#
# The 10,240-GPU H800 fleet of `scenarios/h800-10k.yaml` faces an Nvidia export block at an
# unknown date. We simulate it with today's 60 spare boards and with 300, and compare what the
# fleet delivers. Open this file in Jupyter with jupytext, or run it as a script (CI does).

# %%
from pathlib import Path

import pandas as pd

import planner

ROOT = Path(__file__).resolve().parent.parent if "__file__" in globals() else Path.cwd()
SCENARIO = ROOT / "scenarios" / "h800-10k.yaml"
BOARDS = "cluster.spares.items[0].initial_stock"  # the gpu_board line of the spares

# %%
results = {}
for boards in (60, 300):
    scenario = planner.load_scenario(SCENARIO, overrides={BOARDS: boards,
                                                          "simulation.replications": 8})
    results[boards] = planner.simulate(scenario, workers=1)
results[60]  # a short summary; results[60].summary holds every metric

# %%
table = pd.DataFrame({boards: r.summary.set_index("label")["p50"]
                      for boards, r in results.items()})
print(table.loc[["goodput", "ETTR (pretrain-8k)"]].to_string(float_format="{:,.3f}".format))

# %% [markdown]
# The timeseries are in long format with real dates, ready for plotting:

# %%
ts = results[300].timeseries
healthy = ts[ts["series"] == "h800.healthy_nodes"].groupby("date")["value"].median()
print(healthy.resample("MS").mean().round(0).head(6).to_string())
