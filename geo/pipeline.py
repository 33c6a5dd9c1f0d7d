"""The stages of a build, each reading the previous stage's files."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import fixture, io, osm, settings
from geo.errors import HamjiError
from geo.layers import build_layers, border_line, check_coverage, format_summary, match_provinces, summary
from geo.regions import Region, resolve_selection


def extract_paths_from_env() -> list[Path]:
    """Extracts named by the ``HAMJI_OSM`` environment variable (``:``-separated)."""
    value = os.environ.get(settings.OSM_ENV_VAR, "")
    return [Path(p) for p in value.split(":") if p.strip()]


def _from_overpass(overpass_url: str, selection: list[Region]) -> osm.RawOsm:
    stamp = osm.overpass_timestamp(overpass_url)
    boundaries = osm.fetch_boundaries(overpass_url)
    provinces = match_provinces(boundaries)
    check_coverage(provinces, selection, f"Overpass at {overpass_url}")
    chosen = provinces[provinces["code"].isin({r.code for r in selection})].to_crs(settings.MEASURE_CRS)
    # Buffer so that bridges and border controls on the boundary are inside;
    # simplify so the query polygon sent to Overpass stays short.
    area = chosen.union_all().buffer(2_000).simplify(500)
    border_area = border_line(provinces).buffer(settings.BORDER_CONTROL_MAX_M).simplify(200)
    area, border_area = gpd.GeoSeries([area, border_area], crs=settings.MEASURE_CRS).to_crs(settings.STORE_CRS)
    frames = osm.fetch_features(overpass_url, area, border_area)
    frames["boundaries"] = boundaries
    return osm.RawOsm(frames, osm.overpass_provenance(overpass_url, stamp, frames))


def run_layers(osm_paths: list[Path] | None = None, provinces: list[str] | None = None, demo: bool = False,
               overpass_url: str | None = None, out_dir: Path | None = None) -> dict:
    """Stage 1: read OSM and write the layers GeoPackage.

    Parameters
    ----------
    osm_paths
        Local extracts; when empty, ``HAMJI_OSM`` is tried, then Overpass.
    provinces
        ``--province`` values (codes, names, or ``border``/``far``/``all``).
    demo
        Build from the synthetic mini-HamJi fixture instead of OSM.
    overpass_url
        Overpass endpoint (default :data:`settings.OVERPASS_URL`).
    out_dir
        Folder for the layers (default :data:`settings.LAYERS_DIR`).

    Returns
    -------
    dict
        The build summary (also written into the GeoPackage's metadata).
    """
    if demo and not provinces:
        # The fixture draws only the provinces its towns are in.
        provinces = fixture.province_codes()
    selection = resolve_selection(provinces)
    target = io.layers_path(out_dir)
    io.ensure_writable(target.parent)
    osm_paths = list(osm_paths or []) or extract_paths_from_env()
    if demo and osm_paths:
        raise HamjiError("--demo builds from the synthetic fixture; do not combine it with --osm or HAMJI_OSM")
    with tempfile.TemporaryDirectory(prefix="hamji-demo-") as scratch:
        if demo:
            osm_paths = [fixture.write_osm_xml(Path(scratch) / "mini-hamji.osm")]
        if osm_paths:
            raw = osm.read_extracts(osm_paths)
            source = "the extract" + ("s " if len(osm_paths) > 1 else " ") + ", ".join(str(p) for p in osm_paths)
        else:
            url = overpass_url or settings.OVERPASS_URL
            raw = _from_overpass(url, selection)
            source = f"Overpass at {url}"
        if demo:
            raw.provenance["source"] = "mini-HamJi demo fixture"
            raw.provenance["inputs"] = [{"fixture": "geo/fixture.py", "osm_timestamp": fixture.FIXTURE_TIMESTAMP}]
        layers = build_layers(raw, selection, "the demo fixture" if demo else source)
    provenance = {**raw.provenance, "provinces": [r.code for r in selection]}
    if provenance["synthetic"]:
        provenance["stamp"] = settings.DEMO_STAMP
    info = summary(layers, provenance)
    io.write_gpkg(layers, target, {**provenance, "summary": info})
    io.write_json({**provenance, "summary": info}, target.parent / settings.LAYERS_META)
    print(format_summary(info, layers["provinces"]), file=sys.stdout)
    print(f"wrote {target}", file=sys.stderr)
    return info


def run_routes(layers_dir: Path | None = None, out_dir: Path | None = None, speeds_path: Path | None = None,
               penalties: list[str] | None = None) -> dict:
    """Stage 2: route every market from the layers on disk; write the routes GeoPackage.

    Parameters
    ----------
    layers_dir
        Folder holding the layers stage's GeoPackage (default :data:`settings.LAYERS_DIR`).
    out_dir
        Folder for ``hamji_routes.gpkg`` (default: ``layers_dir``).
    speeds_path
        A TOML speed table replacing the built-in one.
    penalties
        ``CROSSING_ID=HOURS`` border penalties.

    Returns
    -------
    dict
        The network report and per-province summary written with the layers.
    """
    from geo.network import load_speeds
    from geo.routes import compute_routes, parse_penalties

    source = io.layers_path(layers_dir)
    target = Path(out_dir or source.parent) / settings.ROUTES_GPKG
    io.ensure_writable(target.parent)
    speeds = load_speeds(speeds_path)
    layers = {name: io.read_layer(source, name) for name in ("roads", "crossings", "markets", "hubs", "border")}
    penalty_hours = parse_penalties(penalties, list(layers["crossings"]["crossing_id"]))
    provenance = io.read_provenance(source, "roads")
    print("routing …", file=sys.stderr)
    out = compute_routes(layers, speeds, penalty_hours)
    markets = out["markets"]
    per_province = markets.groupby("province").agg(markets=("reachable", "size"), reachable=("reachable", "sum"),
                                                   median_crossing_h=("crossing_h", "median"),
                                                   median_total_h=("total_h", "median"))
    report = {"network": out["network"], "speeds": {"KP": speeds.speeds["KP"], "CN": speeds.speeds["CN"],
                                                    "unpaved_factor": speeds.unpaved_factor},
              "penalties_h": {cid: float(h) for cid, h in zip(out["crossings"]["crossing_id"],
                                                              out["crossings"]["penalty_h"])},
              "per_province": per_province.round(3).reset_index().to_dict("records")}
    metadata = {**provenance, "routes": report, "layers_file": str(source.resolve())}
    frames = {name: out[name] for name in ("routes", "markets", "roads", "crossings", "hubs", "bands")}
    io.write_gpkg(frames, target, metadata)
    lines = [f"*** {settings.DEMO_STAMP} ***"] if provenance.get("synthetic") else []
    for country, info in out["network"].items():
        if isinstance(info, dict):
            dropped = info["dropped"]
            lines.append(f"{country} network: {info['nodes']:,} nodes, {info['edges']:,} edges; dropped "
                         f"{dropped['components']} small components ({dropped['roads']} roads, "
                         f"{dropped['nodes']} nodes)")
    lines.append(per_province.round(2).to_string())
    print("\n".join(lines))
    print(f"wrote {target}", file=sys.stderr)
    return report


def run_reach(layers_dir: Path | None = None, out_dir: Path | None = None) -> pd.DataFrame:
    """Stage 3: the reach table from the layers and routes on disk; write CSV and Markdown.

    Parameters
    ----------
    layers_dir
        Folder holding ``hamji_layers.gpkg`` and ``hamji_routes.gpkg``
        (default :data:`settings.LAYERS_DIR`).
    out_dir
        Folder for ``hamji_reach.csv`` and ``hamji_reach.md`` (default: ``layers_dir``).

    Returns
    -------
    pandas.DataFrame
        The reach table.
    """
    from geo.reach import headline, markdown_summary, reach_table

    layers_file = io.layers_path(layers_dir)
    routes_file = layers_file.parent / settings.ROUTES_GPKG
    target = Path(out_dir or layers_file.parent)
    io.ensure_writable(target)
    if not routes_file.exists():
        raise HamjiError(f"{routes_file} does not exist; run 'hamji routes' (or 'hamji build') first")
    provinces = io.read_layer(layers_file, "provinces")
    markets = io.read_layer(routes_file, "markets")
    provenance = io.read_provenance(routes_file, "markets")
    table = reach_table(markets, provinces)
    io.write_text(table.to_csv(index=False, float_format="%.4f"), target / settings.REACH_CSV)
    io.write_text(markdown_summary(table, provenance), target / settings.REACH_MD)
    lines = [f"*** {settings.DEMO_STAMP} ***"] if provenance.get("synthetic") else []
    columns = ["code", "markets", "crossing_h_median", "crossing_h_p90", "crossing_within_4h",
               "crossing_unreachable", "hub_h_median"]
    lines += [table[columns].round(2).to_string(index=False), headline(table)]
    print("\n".join(lines))
    print(f"wrote {target / settings.REACH_CSV} and {settings.REACH_MD}", file=sys.stderr)
    return table


def run_maps(layers_dir: Path | None = None, maps_dir: Path | None = None, offline: bool = False) -> dict:
    """Stage 4: every HTML map and ``index.html`` from the layers, routes and reach table on disk.

    Parameters
    ----------
    layers_dir
        Folder holding the layers, routes and reach files (default :data:`settings.LAYERS_DIR`).
    maps_dir
        Folder for the HTML (default :data:`settings.MAPS_DIR`).
    offline
        Inline Leaflet and its plugins (from the npm packages in
        :data:`settings.ASSETS_DIR`) so the maps open without internet.

    Returns
    -------
    dict
        File name -> size in bytes.
    """
    from geo.maps import INDEX_FILE, MapInputs, build_maps, check_assets, index_page

    layers_file = io.layers_path(layers_dir)
    folder = layers_file.parent
    routes_file = folder / settings.ROUTES_GPKG
    reach_file = folder / settings.REACH_CSV
    target = Path(maps_dir or settings.MAPS_DIR)
    io.ensure_writable(target)
    for path, stage in ((routes_file, "routes"), (reach_file, "reach")):
        if not path.exists():
            raise HamjiError(f"{path} does not exist; run 'hamji {stage}' (or 'hamji build') first")
    try:
        reach = pd.read_csv(reach_file, dtype={"published_markets": "Int64", "published_year": "Int64"})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise HamjiError(f"cannot read {reach_file} ({str(exc).splitlines()[0]}); rerun 'hamji reach'") from None
    inputs = MapInputs(provinces=io.read_layer(layers_file, "provinces"), border=io.read_layer(layers_file, "border"),
                       roads=io.read_layer(routes_file, "roads"), crossings=io.read_layer(routes_file, "crossings"),
                       hubs=io.read_layer(routes_file, "hubs"), markets=io.read_layer(routes_file, "markets"),
                       bands=io.read_layer(routes_file, "bands"), reach=reach,
                       provenance=io.read_provenance(routes_file, "markets"))
    if offline:
        check_assets()
    print("drawing maps …", file=sys.stderr)
    pages, tolerances = build_maps(inputs, offline=offline)
    sizes = {name: len(html.encode()) for name, html in pages.items()}
    pages[INDEX_FILE] = index_page(inputs, sizes)
    sizes[INDEX_FILE] = len(pages[INDEX_FILE].encode())
    for name, html in pages.items():
        io.write_text(html, target / name)
    lines = [f"*** {settings.DEMO_STAMP} ***"] if inputs.synthetic else []
    lines += [f"{name}: {size / 1e6:.2f} MB" + (f" (geometry simplified to {tolerances[name]:g} m)"
                                                 if name in tolerances else "")
              for name, size in sizes.items()]
    print("\n".join(lines))
    print(f"wrote {len(pages)} files to {target}" + (" (offline: assets inlined)" if offline else ""),
          file=sys.stderr)
    return sizes
