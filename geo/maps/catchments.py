"""The crossings' catchments on a map: a line from each crossing to every market whose best route uses it."""

from __future__ import annotations

import folium
import geopandas as gpd
import shapely

from geo import settings
from geo.access import crossing_catchments, market_people
from geo.maps.base import MapInputs
from geo.maps.text import escape
from geo.reach import format_hours, format_share

#: One colour per crossing, in the order of most markets served (Okabe-Ito, then greys): apart from the
#: time scale's viridis, and from each other with colour blindness for the first seven.
CATCHMENT_COLOURS = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#999999")


def catchments_of(inputs: MapInputs) -> gpd.GeoDataFrame:
    """The catchments the reach stage wrote, or made from the markets (census counts spread over them)."""
    if inputs.catchments is not None:
        return inputs.catchments
    return crossing_catchments(inputs.markets, inputs.crossings, market_people(inputs.markets))


def add_catchments(m: folium.Map, inputs: MapInputs) -> list[str]:
    """Draw each crossing's catchment as spokes to its markets (hidden at first); return legend items."""
    catchments = catchments_of(inputs)
    served = catchments[catchments["markets"] > 0].sort_values(["markets", "crossing_id"], ascending=[False, True])
    where = inputs.crossings.set_index("crossing_id").geometry
    group = folium.FeatureGroup(name="Crossing catchments (best hub → market route)", show=False)
    items = []
    for number, row in enumerate(served.itertuples()):
        if row.crossing_id not in where.index:
            continue
        colour = CATCHMENT_COLOURS[min(number, len(CATCHMENT_COLOURS) - 1)]
        origin = where.loc[row.crossing_id]
        spokes = shapely.MultiLineString([[(origin.x, origin.y), (p.x, p.y)] for p in row.geometry.geoms])
        words = (
            f"{row.crossing_name}: best crossing for {row.markets} markets ({format_share(row.markets_share)}) "
            f"and {row.people:,.0f} people ({format_share(row.people_share)}); median hub → market "
            f"{format_hours(row.hub_h_median)}"
        )
        frame = gpd.GeoDataFrame({"tip": [escape(words)]}, geometry=[spokes], crs=settings.STORE_CRS)
        folium.GeoJson(
            frame,
            style_function=lambda _, c=colour: {"color": c, "weight": 2.5, "opacity": 0.85, "dashArray": "6 4"},
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        ).add_to(group)
        items.append(f'<i class="line" style="border-top:3px dashed {colour}"></i>{escape(row.crossing_name)}')
    group.add_to(m)
    return items
