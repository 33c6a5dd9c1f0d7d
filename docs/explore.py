# %% [markdown]
# # Exploring HamJi Explorer from Python
#
# A researcher's session, runnable as a script (``python docs/explore.py``)
# or cell by cell in Jupyter or VS Code (the ``# %%`` markers). It uses the
# synthetic demo so that it runs anywhere; with real data, start from
# ``geo.load_layers("layers")`` after ``hamji layers``, or from
# ``geo.layers_from_extracts(["north-korea-latest.osm.pbf", "jilin.osm.pbf"])``.
# Everything drawn from the demo is stamped DEMO: it is not OpenStreetMap.

# %%
import sys
import tempfile
from pathlib import Path

import geo

layers = geo.demo_layers()
print(layers.provenance["source"], "-", "synthetic" if layers.synthetic else "OpenStreetMap")
print(layers.markets.groupby("province").size().rename("markets").to_string())

# %% [markdown]
# ## Route every market
#
# Times from the nearest open crossing (``crossing_h``) and from a Chinese hub
# through the best crossing (``total_h``). Here the Wonjong–Quanhe bridge is
# assumed to take four hours at the border instead of the default.

# %%
routes = geo.route_markets(layers, penalties={"wonjong_quanhe": 4.0})
columns = ["name", "province", "best_crossing", "total_h"]
print(routes.markets[columns].sort_values("total_h").head(5).round(2).to_string(index=False))

# %% [markdown]
# ## Reach for a grouping of one's own
#
# The default rows compare the border provinces with the far ones. Any other
# question is a mapping from a label to province codes: here the east coast
# (North Hamgyong, Rason, South Hamgyong) against the south-west.

# %%
groups = {"east coast": ["KP-09", "KP-13", "KP-08"], "south-west": ["KP-05", "KP-06"]}
table = geo.reach_table(routes, layers, groups=groups)
print(table[["name", "markets", "hub_h_median", "hub_within_4h"]].round(2).to_string(index=False))

# %% [markdown]
# ## A what-if, and one map inline
#
# In a notebook the last line shows the map; as a script it is written to a
# file. The map is the same one ``hamji maps`` writes.

# %%
closed = geo.run_scenario("wonjong_closed", layers, routes)
print(
    closed.info["name"],
    "- markets whose nearest crossing changed:",
    int(closed.market_changes["nearest_crossing_changed"].sum()),
)

overview = geo.draw_map(layers, routes, geo.reach_table(routes, layers), kind="overview")
if "ipykernel" not in sys.modules:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "overview.html"
    overview.save(str(out))
    print("map written to", out)
overview
