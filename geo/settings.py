"""Every tunable of HamJi Explorer in one place.

Modules read these at call time (``settings.NAME``), so a test or a user
script can change one before calling into the library, the way osmnx's own
``ox.settings`` works.
"""

from __future__ import annotations

import os
from pathlib import Path

# --- coordinate reference systems -------------------------------------------
#: Everything on disk is stored in WGS 84 longitude/latitude.
STORE_CRS = "EPSG:4326"
#: Lengths, areas and distances are measured in UTM zone 52N, which covers the
#: whole Korean peninsula and Jilin with small distortion.
MEASURE_CRS = "EPSG:32652"

# --- where things go ---------------------------------------------------------
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Output folders, relative to the folder a command runs in (as git or make
#: do), so an installed package never writes inside its own installation.
#: (``LAYERS_DIR``, ``MAPS_DIR``: environment variables ``HAMJI_LAYERS_DIR``, ``HAMJI_MAPS_DIR``; see ``_FROM_ENV``.)
#: File name of the GeoPackage holding the layers stage's output.
LAYERS_GPKG = "hamji_layers.gpkg"
#: Sidecar written next to the GeoPackage: provenance and the build summary.
LAYERS_META = "hamji_layers.meta.json"
#: Rows of researchers' market lists that could not be used, with the reason for each.
MARKETS_REJECTED_CSV = "hamji_markets_rejected.csv"
#: The headline chart written beside the reach table (and shown on index.html).
REACH_SVG = "hamji_reach.svg"

# --- OpenStreetMap sources ---------------------------------------------------
#: Overpass endpoint used when no local extract is given.
#: (``OVERPASS_URL``: ``HAMJI_OVERPASS_URL``, default https://overpass-api.de/api; ``OVERPASS_CACHE_DIR``,
#: osmnx's HTTP cache folder so that a rerun with the same query does not refetch: ``HAMJI_CACHE_DIR``.)
#: (``OVERPASS_TIMEOUT``: seconds before an Overpass request, its whole answer included, is given up;
#: ``HAMJI_OVERPASS_TIMEOUT_S``, default 180.)
#: (``OVERPASS_MAX_ANSWER_BYTES``: the most an Overpass answer may hold once decompressed,
#: ``HAMJI_OVERPASS_MAX_ANSWER_BYTES``, default 1 GiB: osmnx splits a large area into queries of
#: OVERPASS_MAX_QUERY_AREA_M2, whose answers are far smaller.)
#: Seconds for the first request (the data date), which tells whether the server answers at all.
OVERPASS_STATUS_TIMEOUT = 30
#: Times a 429 (too many requests) or 504 (gateway timeout) answer is retried,
#: and the pause (s) before each retry, before the build stops with an error.
OVERPASS_RETRIES = 2
#: (``OVERPASS_RETRY_PAUSE_S``: ``HAMJI_OVERPASS_RETRY_PAUSE_S``, default 30.)
#: (``OVERPASS_MAX_QUERY_AREA_M2``: osmnx splits a query polygon larger than this (m²) into several
#: requests; ``HAMJI_OVERPASS_MAX_QUERY_AREA_M2``, default 50 km × 50 km, osmnx's own, which a public
#: server answers within its limits. A private server with no such limits may take far larger ones:
#: the default supply model asks for Jilin and Liaoning too: 249 requests a query over the demo's outlines.)
#: Environment variable with local extracts, separated by ":".
OSM_ENV_VAR = "HAMJI_OSM"
#: Suffixes accepted as local OpenStreetMap extracts.
EXTRACT_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")

#: Where HamJi's roads can be (lon/lat): North Korea and Jilin, from the extents
#: of their Natural Earth 10m admin-1 polygons (public domain; 121.65–131.28 °E,
#: 37.68–46.29 °N, as in ../shared/data/provinces_naturalearth.geojson) plus a
#: margin for generalised coasts. Roads of an extract outside it (most of a
#: China extract) are dropped before any geometry is made.
REGION_BBOX = (121.4, 37.4, 131.6, 46.6)
#: A tagged node, or a way whose first node, lies further than this (degrees)
#: outside REGION_BBOX is dropped unread; a way starting closer is measured
#: whole. Road ways are split at junctions, so none is anywhere near this long.
REGION_WAY_MARGIN_DEG = 2.0
#: Folder for the on-disk node index of very large extracts (default: the system's temporary folder).
#: (``NODE_INDEX_DIR``: ``HAMJI_TMPDIR``.)

# --- bounds on compressed and XML extracts (geo/sources/bounded.py) ------------
#: (Each also from an environment variable, see ``_FROM_ENV``.) A ``.gz`` or
#: ``.bz2`` extract may expand to at most ``DECOMPRESSED_MAX_BYTES`` (default
#: 200 GiB: a China XML is about 40 GB), at most ``COMPRESSION_MAX_RATIO``
#: times its size (default 100: real OSM XML compresses 10 to 20 times; a
#: bomb thousands), and is read through in at most ``DECOMPRESS_MAX_S``
#: (default 4 h). No XML token (a tag, comment) may exceed
#: ``XML_TOKEN_MAX_BYTES`` (default 1 MiB; an OSM tag is at most ~1 KB).

#: Box used to look up province boundaries on Overpass (lon/lat): all of North
#: Korea and the Tumen side of Jilin.
BOUNDARY_QUERY_BBOX = (124.0, 37.5, 131.5, 44.6)

# --- tag filters (the same for Overpass and local extracts) -------------------
#: Road classes kept as the trade network.
MAIN_ROAD_CLASSES = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
)
#: Kept too, but flagged ``minor=True``: in North Korea many market towns are
#: reached only by such roads, so dropping them would cut markets off.
MINOR_ROAD_CLASSES = ("unclassified", "track")
ROAD_TAGS = {"highway": list(MAIN_ROAD_CLASSES + MINOR_ROAD_CLASSES)}
MARKET_TAGS = {"amenity": "marketplace"}
BORDER_CONTROL_TAGS = {"barrier": "border_control"}
#: Rail lines: the rail network (geo/rail.py) and the rail bridges over the border.
RAIL_TAGS = {"railway": ["rail"]}
#: Stations and freight yards: where goods move between rail and road.
STATION_TAGS = {"railway": ["station", "yard"]}
BOUNDARY_TAGS = {"boundary": "administrative", "admin_level": ["4", "5"]}
#: Towns and cities, read to find the Chinese wholesale hubs.
PLACE_TAGS = {"place": ["city", "town"]}

# --- hubs ----------------------------------------------------------------------
#: The Chinese wholesale cities of the HamJi trade, matched against OSM
#: ``place`` nodes in Jilin by English or Chinese name.
HUBS = {
    "Yanji": "延吉市",
    "Tumen": "图们市",
    "Hunchun": "珲春市",
    "Longjing": "龙井市",
    "Helong": "和龙市",
    "Changbai": "长白朝鲜族自治县",
    # The Yalu crossings' own cities (Chagang's crossings were fed from Changbai without them).
    "Ji'an": "集安市",
    "Linjiang": "临江市",
    # Liaoning: used by the all-china supply model only.
    "Dandong": "丹东市",
}
#: Why each city of :data:`HUBS` is a hub of the China–North Korea trade.
HUB_SOURCES = {
    "Yanji": "Park's HamJi argument: the wholesalers of Yanji, Tumen and Hunchun across the Tumen (README)",
    "Tumen": "Park's HamJi argument (README); Choson Ilbo 2005-07-13 via NK Economy Watch "
    "(http://www.nkeconwatch.com/2005/07/13/trade-traffic-tells-of-nkorea%E2%80%99s-dependency-on-china/): trucks "
    "with North Korean cargo at the Tumen customs house",
    "Hunchun": "Park's HamJi argument (README); Nikkei Asia 2023-02-16: the Hunchun-Rason trucking corridor",
    "Longjing": "China Dragon Tours, Kaishantun and Sanhe ports are Longjing's (geo/sources/gazetteer.py)",
    "Helong": "US Consulate Shenyang cable 07SHENYANG145: Helong administers the Nanping and Guchengli land ports",
    "Changbai": "Wikipedia, 'Changbai–Hyesan International Bridge' (geo/sources/gazetteer.py)",
    "Ji'an": "Global Times 2019-04 via Sputnik "
    "(https://sputnikglobe.com/amp/20190411/china-north-korea-new-port-1074017101.html): "
    "Ji'an's new road port to Manpo, 500,000 t of goods a year expected, mostly farm products and daily necessities; "
    "with road, rail and water ports Ji'an has four North Korea-bound ports (Global Times via NovostiVL)",
    "Linjiang": "Wikipedia, 'Linjiang Yalu River Bridge' (https://en.wikipedia.org/wiki/Linjiang_Yalu_River_Bridge): "
    "Linjiang Border Post, the bridge to Chunggang county",
    "Dandong": "Global Times 2013-04-22 (https://www.globaltimes.cn/content/776695.shtml): about 70 percent of "
    "Sino-North Korean trade passes through Dandong",
}

# --- supply models ---------------------------------------------------------------
#: The supply models (where goods may come from) are typed data in :mod:`geo.supply`.

# --- sea links (geo/sources/maritime.py, geo/sea.py) ------------------------------
#: Ship speed (knots) on the China-Nampo links. An assumption, not a sourced
#: figure: no published speed of these ships was found; 10 kn is a slow
#: service speed for small bulk and general-cargo ships.
SEA_SPEED_KN = 10.0
#: Hours in port for one shipment, loading in China and unloading at Nampo
#: together. An assumption (no published figure found), like the border penalty.
SEA_DWELL_H = 24.0

# --- rail (geo/rail.py) -------------------------------------------------------------
#: Freight train speed (km/h) over the whole trip, stops included, by country.
#: An assumption inside the sourced range: electric trains run at most
#: 60 km/h Pyongyang-Sinuiju (Korea Times, 2019-01, citing Daily NK,
#: http://m.koreatimes.co.kr/pages/article.asp?newsIdx=262380); Hyesan-Pyongyang
#: took about 24 h before the power shortage of late 2014 and 10 days or more
#: after it (Yonhap citing RFA and Asia Press,
#: https://www.koreanewsdigest.com/n-korean-trains-virtually-out-of-service-due-to-power-shortage-report/).
#: China: no published whole-trip speed of freight on the border branch lines
#: (Tumen, Dandong, Ji'an) was found; the North Korean figure is taken, an
#: assumption on the slow side, so that a train from a hub's station is chosen
#: over the road only where the road is much longer (the same table serves both).
RAIL_SPEED_KMH = {"KP": 25.0, "CN": 25.0}
#: A Chinese hub is joined to the rail network at a station within this
#: distance (m) of it: its own city's station (an assumption: a city's main
#: station lies within a few kilometres of its centre).
HUB_STATION_MAX_M = 5_000
#: Hours to move a load between truck and train, once at each end of a rail
#: leg. An assumption (no published figure found), like the border penalty.
RAIL_TRANSFER_H = 3.0

# --- crossings ---------------------------------------------------------------
#: An OSM border control or border bridge within this distance (m) of a
#: gazetteer crossing is the same crossing.
CROSSING_MERGE_M = 1_500
#: OSM border controls farther than this (m) from the China-DPRK border line
#: are other checkpoints (e.g. the Russian border) and are ignored.
BORDER_CONTROL_MAX_M = 2_000
#: Province polygons of the two countries touch along the border; points this
#: close (m) to the other country's polygon are still on the border line.
BORDER_TOLERANCE_M = 250

# --- province assignment -----------------------------------------------------
#: A point outside every province polygon (generalised coastlines, river
#: centre lines) is given the nearest province within this distance (m).
PROVINCE_SNAP_M = 5_000

# --- routing -------------------------------------------------------------------
#: Where the routes stage writes.
ROUTES_GPKG = "hamji_routes.gpkg"
#: Travel speeds (km/h) by country and road class; ``*_link`` roads take their
#: parent's speed, unpaved surfaces are multiplied by ``unpaved_factor``.
#: Assumptions for laden trucks, not measurements: OSM ``maxspeed`` is almost
#: absent in North Korea, so it is not used. North Korean roads are narrow,
#: often unpaved and badly maintained, and checkpoints slow traffic: speeds
#: there are set at about half the Chinese ones for the same class. Replace
#: the table with ``--speeds FILE`` (TOML, same layout) to test other values.
DEFAULT_SPEEDS = {
    "KP": {
        "motorway": 50,
        "trunk": 45,
        "primary": 40,
        "secondary": 30,
        "tertiary": 25,
        "unclassified": 20,
        "track": 10,
        "unpaved_factor": 0.6,
    },
    "CN": {
        "motorway": 90,
        "trunk": 70,
        "primary": 60,
        "secondary": 50,
        "tertiary": 40,
        "unclassified": 30,
        "track": 15,
        "unpaved_factor": 0.6,
    },
}
#: Highest speed (km/h) a speed table, a scenario or a speed scale may give.
MAX_SPEED_KMH = 200
#: Highest border penalty (h) a scenario or ``--penalty`` may give (ten days).
MAX_PENALTY_H = 240
#: Hours spent at a crossing (customs, transfer), unless set per crossing
#: with ``--penalty CROSSING_ID=HOURS``.
BORDER_PENALTY_H = 2.0
#: A market or hub farther than this (m) from its side's road network is
#: flagged and not routed.
SNAP_MAX_M = 2_000
#: A crossing (an OSM bridge or checkpoint, or a gazetteer point with no OSM
#: feature) is joined to the nearest road node on each side within this
#: distance (m); one with no road in reach is flagged and left out of routing.
CROSSING_SNAP_MAX_M = 2_000


#: UTM zone 52N as :data:`MEASURE_CRS`, computed by PROJ's Evenden–Snyder series (``+approx``) rather than its
#: default Poder–Engsager one: half the time for the millions of road vertices the layers and routes stages
#: project, and within 2 mm of EPSG:32652 over the whole region (121–132° E, 37–47° N; tests/test_layers.py).
MEASURE_PROJ = "+proj=utm +zone=52 +datum=WGS84 +units=m +approx +no_defs"


def to_measure_transformer():
    """A pyproj transformer from the store CRS to the measuring CRS (lon/lat order), for arrays of vertices.

    Its coordinates are EPSG:32652's to within 2 mm (:data:`MEASURE_PROJ`).
    """
    from pyproj import CRS, Transformer

    return Transformer.from_crs(STORE_CRS, CRS.from_proj4(MEASURE_PROJ), always_xy=True)


#: Tag on every element of the synthetic demo fixture: whatever reads one
#: (an extract, Overpass) stamps its outputs DEMO.
SYNTHETIC_TAG = "hamji:synthetic"
#: Text stamped on everything built from the synthetic fixture.
DEMO_STAMP = "DEMO — synthetic network, not OpenStreetMap"

# --- reach -----------------------------------------------------------------------
#: Hours for the "share within" columns of the reach table and the
#: travel-time bands drawn around the crossings.
REACH_THRESHOLDS_H = (2, 4, 8)
#: People areas stand in for a province's markets in the people-weighted
#: shares only where they hold this share of its census count (low, high):
#: fewer leaves people out, more means areas overlap (an OSM export holds
#: counties and their districts both).
PEOPLE_AREAS_COVERAGE = (0.95, 1.05)
#: Gravity market access (Hansen 1959, "How accessibility shapes land use",
#: Journal of the American Institute of Planners 25(2): 73-76): a market's
#: index is the sum over hubs of weight * exp(-beta * hours from the hub).
#: Beta is not calibrated: that needs observed trade flows, which North
#: Korea does not publish. It is set by a half-life instead: a hub this many
#: hours away counts half as much as one at the market's door, beta =
#: ln 2 / half-life. 4 h is the reach table's middle threshold (goods leaving
#: a hub in the morning reach the market the same day with time to trade).
GRAVITY_HALF_LIFE_H = 4.0
#: Half-lives (h) the gravity index is also given for, to show how far its
#: ordering rests on the choice: the reach thresholds, so the shortest counts
#: a hub 8 h away at 1/16 and the longest at 1/2.
GRAVITY_SENSITIVITY_HALF_LIVES_H = (2.0, 4.0, 8.0)
#: Supply weight of each hub in the gravity sum (hub name -> weight; a hub
#: not named weighs 1). Empty: every hub weighs the same, because there is
#: no published measure of each hub's wholesale trade with North Korea and
#: OSM's population tags are missing for most of them.
GRAVITY_HUB_WEIGHTS: dict[str, float] = {}
#: A travel-time band covers the land within this distance (m) of a road
#: vertex reached within the threshold ...
BAND_BUFFER_M = 3_000
#: ... on a grid of cells this size (m).
BAND_CELL_M = 1_000
#: Where the reach stage writes.
REACH_CSV = "hamji_reach.csv"
#: Each crossing's catchment (the markets and people whose best route uses it), written by the reach stage.
CATCHMENTS_GPKG = "hamji_catchments.gpkg"
#: What ``hamji compare`` writes: the roads in one build and not the other (beside its tables), and its map.
ROAD_CHANGES_GPKG = "hamji_road_changes.gpkg"
COMPARE_HTML = "compare.html"
REACH_MD = "hamji_reach.md"
#: A scenario's differences from the baseline, per market and per province (in its own folder).
DIFFERENCE_MARKETS_CSV = "hamji_difference_markets.csv"
DIFFERENCE_PROVINCES_CSV = "hamji_difference_provinces.csv"
#: The people areas a reach table was weighted by (``--people-areas``), kept beside it so that scenarios
#: and the supply comparison made later from that table weight the same way.
PEOPLE_AREAS_COPY = "hamji_people_areas.geojson"

# --- maps ------------------------------------------------------------------------
#: Colour bins (hours) for time to the nearest crossing, shared by every map
#: so that one colour means the same time everywhere.
MAP_TIME_BINS_H = (0, 1, 2, 4, 8, 12, 24)
#: Colours of those bins: one sequential scale (viridis at 7 even steps: dark
#: is near, yellow is far; it reads in greyscale and with every common colour
#: blindness); grey is unreachable.
MAP_TIME_COLOURS = ("#440154", "#443983", "#31688e", "#21918c", "#35b779", "#90d743", "#fde725")
MAP_UNREACHABLE_COLOUR = "#7f7f7f"
#: Colours of the border and far groups, in the maps' outlines and the chart
#: (Okabe-Ito vermillion and reddish purple: apart from the time scale, and
#: from each other with colour blindness).
MAP_GROUP_COLOURS = {"border": "#d55e00", "far": "#cc79a7"}
#: Provinces shown side by side at the same scale.
SIDE_BY_SIDE = ("KP-09", "KP-05")
#: Geometry is simplified by this tolerance (m) before it goes into a map,
#: and doubled until the HTML fits under MAP_MAX_BYTES.
MAP_SIMPLIFY_M = 50
MAP_MAX_BYTES = 10_000_000
#: Decimal places kept in map coordinates (5 ≈ 1 m).
MAP_COORD_DECIMALS = 5
#: Folder of the Leaflet files (and plugins) inlined into every map unless ``--cdn``:
#: the copies shipped in geo/data/assets/ (from the npm packages of package.json).
#: (``ASSETS_DIR``: ``HAMJI_ASSETS_DIR``, default geo/data/assets.)

# --- scenarios ---------------------------------------------------------------------
#: Scenarios run by ``hamji sensitivity`` against the baseline.
#: The dimensions: road classes' speeds on each side, each on its own (one
#: factor for all of a side's speeds scales its times and moves no route,
#: issue 24), the unpaved factor, the border penalty, the crossing set
#: (Tumen only: one open) and the supply model (all of China).
SENSITIVITY_SCENARIOS = (
    "kp_main_roads_minus30",
    "kp_minor_roads_minus30",
    "kp_unpaved_slower",
    "cn_main_roads_minus30",
    "border_penalty_6h",
    "tumen_one_open",
    "supply_all_china",
)
SENSITIVITY_CSV = "hamji_sensitivity.csv"
#: ``hamji uncertainty``: where it writes, its default number of draws, and the most it takes.
UNCERTAINTY_CSV = "hamji_uncertainty.csv"
UNCERTAINTY_DRAWS = 200
MAX_UNCERTAINTY_DRAWS = 100_000
#: The largest seed: the seed is written to the CSV as a 64-bit integer, so a larger one
#: would overflow there after every draw had run; 2**32 - 1 is ample and easy to type.
MAX_UNCERTAINTY_SEED = 2**32 - 1
SENSITIVITY_MD = "hamji_sensitivity.md"
#: The border-against-far ordering under every supply model (written by ``hamji build``).
SUPPLY_MD = "hamji_supply.md"


# --- settings from environment variables -------------------------------------------
def _path(text: str) -> Path:
    return Path(text)


#: The longest any wait may be set to (s): a week. Past what the system's clock calls can hold
#: (``time.sleep(1e300)`` overflows), and no Overpass request or extract needs longer.
_MAX_WAIT_S = 7 * 24 * 3600


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= _MAX_WAIT_S:
        raise ValueError
    return value


def _positive(kind, most: float = float("inf")):
    def parse(text: str):
        value = kind(text)
        if not 0 < value < float("inf") or value > most:
            raise ValueError
        return value

    return parse


#: Settings an environment variable can set: name → (variable, parser, default, allowed values in words).
#: Read each time the setting is used (module ``__getattr__``), never at import, so that a bad value is a
#: one-line error of the command that uses it; assigning ``settings.NAME`` overrides the variable.
_FROM_ENV = {
    "LAYERS_DIR": ("HAMJI_LAYERS_DIR", _path, Path("layers"), "a folder path"),
    "MAPS_DIR": ("HAMJI_MAPS_DIR", _path, Path("maps"), "a folder path"),
    # Checked where it is used (geo.sources.overpass), like a URL given by flag: argparse shows it as a default.
    "OVERPASS_URL": ("HAMJI_OVERPASS_URL", str, "https://overpass-api.de/api", "an http:// or https:// URL"),
    "OVERPASS_CACHE_DIR": ("HAMJI_CACHE_DIR", _path, Path("cache"), "a folder path"),
    "OVERPASS_RETRY_PAUSE_S": (
        "HAMJI_OVERPASS_RETRY_PAUSE_S",
        _seconds,
        30.0,
        f"a number of seconds from 0 to {_MAX_WAIT_S:,}",
    ),
    "OVERPASS_TIMEOUT": (
        "HAMJI_OVERPASS_TIMEOUT_S",
        _positive(float, _MAX_WAIT_S),
        180.0,
        f"a number of seconds more than 0 and at most {_MAX_WAIT_S:,}",
    ),
    "OVERPASS_MAX_ANSWER_BYTES": (
        "HAMJI_OVERPASS_MAX_ANSWER_BYTES",
        _positive(int),
        1 << 30,
        "a whole number of bytes, more than 0",
    ),
    "OVERPASS_MAX_QUERY_AREA_M2": (
        "HAMJI_OVERPASS_MAX_QUERY_AREA_M2",
        _positive(float),
        50_000.0 * 50_000,
        "an area in square metres, more than 0",
    ),
    "NODE_INDEX_DIR": ("HAMJI_TMPDIR", str, None, "a folder path"),
    "ASSETS_DIR": ("HAMJI_ASSETS_DIR", _path, Path(__file__).resolve().parent / "data" / "assets", "a folder path"),
    "DECOMPRESSED_MAX_BYTES": (
        "HAMJI_DECOMPRESSED_MAX_BYTES",
        _positive(int),
        200 * 1024**3,
        "a whole number of bytes, more than 0",
    ),
    "COMPRESSION_MAX_RATIO": ("HAMJI_COMPRESSION_MAX_RATIO", _positive(float), 100.0, "a number more than 0"),
    "DECOMPRESS_MAX_S": (
        "HAMJI_DECOMPRESS_MAX_S",
        _positive(float, _MAX_WAIT_S),
        4 * 3600.0,
        f"a number of seconds more than 0 and at most {_MAX_WAIT_S:,}",
    ),
    "XML_TOKEN_MAX_BYTES": (
        "HAMJI_XML_TOKEN_MAX_BYTES",
        _positive(int),
        1 << 20,
        "a whole number of bytes, more than 0",
    ),
}


def __getattr__(name: str):
    if name not in _FROM_ENV:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    variable, parse, default, allowed = _FROM_ENV[name]
    text = os.environ.get(variable, "")
    if not text:
        return default
    try:
        return parse(text)
    except ValueError:
        from geo.errors import InputError

        raise InputError(f"environment variable {variable}={text[:80]!r} is not {allowed}; fix or unset it") from None
