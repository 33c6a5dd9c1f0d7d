"""The stages of a build, each reading the previous stage's files."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import cache, fixture, io, osm, settings
from geo.errors import HamjiError, InputError, SourceError
from geo.layers import build_layers, border_line, check_coverage, format_summary, match_provinces, summary
from geo.regions import Region, resolve_selection

log = logging.getLogger(__name__)


def extract_paths_from_env() -> list[Path]:
    """Extracts named by the ``HAMJI_OSM`` environment variable (``:``-separated)."""
    value = os.environ.get(settings.OSM_ENV_VAR, "")
    paths = [Path(p) for p in value.split(":") if p.strip()]
    if value and not paths:
        # Set, yet naming no file: a typo, not a request to go online instead.
        raise InputError(f"{settings.OSM_ENV_VAR}={value[:80]!r} names no extract; give extract paths "
                         "separated by ':', or unset it to use Overpass")
    return paths


def _from_overpass(overpass_url: str, selection: list[Region], allow_empty: bool = False) -> osm.RawOsm:
    io.ensure_writable(settings.OVERPASS_CACHE_DIR)
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
    if frames["roads"].empty and not allow_empty:
        # A province with no roads at all in OSM is far likelier a failed or
        # truncated answer than the truth.
        raise SourceError(f"Overpass at {overpass_url} returned no roads for "
                          + ", ".join(r.name for r in selection)
                          + "; nothing was written. Check the server, or pass --allow-empty if that is expected")
    frames["boundaries"] = boundaries
    return osm.RawOsm(frames, osm.overpass_provenance(overpass_url, stamp, frames))


def _skip(stage: str, key: str | None, outputs: list[Path], force: bool) -> bool:
    """Say so and return True when ``stage`` may be skipped."""
    if key is None or force or not cache.is_current(stage, key, outputs):
        return False
    print(f"{stage}: unchanged inputs, settings and code since {outputs[0].parent} was written; skipped "
          "(--force rebuilds)")
    return True


def run_layers(osm_paths: list[Path] | None = None, provinces: list[str] | None = None, demo: bool = False,
               overpass_url: str | None = None, out_dir: Path | None = None, force: bool = False,
               allow_empty: bool = False) -> dict:
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
    force
        Rebuild even if the extracts, settings and code are unchanged (an
        Overpass build always runs; osmnx's cache spares the downloads).
    allow_empty
        Accept an Overpass answer with no roads (otherwise an error).

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
    osm_paths = [osm.check_extract_path(p) for p in osm_paths]
    outputs = [target, target.parent / settings.LAYERS_META]
    key = None
    if demo or osm_paths:
        key = cache.stage_key("layers", osm_paths, {"demo": demo, "provinces": [r.code for r in selection]})
        if _skip("layers", key, outputs, force):
            return json.loads(outputs[1].read_text(encoding="utf-8"))["summary"]
    with tempfile.TemporaryDirectory(prefix="hamji-demo-") as scratch:
        if demo:
            osm_paths = [fixture.write_osm_xml(Path(scratch) / "mini-hamji.osm")]
        if osm_paths:
            raw = osm.read_extracts(osm_paths)
            source = "the extract" + ("s " if len(osm_paths) > 1 else " ") + ", ".join(str(p) for p in osm_paths)
        else:
            url = overpass_url or settings.OVERPASS_URL
            raw = _from_overpass(url, selection, allow_empty)
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
    if key is not None:
        cache.remember("layers", key, outputs)
    print(format_summary(info, layers["provinces"]), file=sys.stdout)
    if not (layers["markets"]["country"] == "KP").any():
        print(f"warning: no markets (amenity=marketplace) in the North Korean provinces of {source}; routes, "
              "reach and maps will have none", file=sys.stdout)
    log.info(f"wrote {target}")
    return info


def run_routes(layers_dir: Path | None = None, out_dir: Path | None = None, speeds_path: Path | None = None,
               penalties: list[str] | None = None, force: bool = False) -> dict:
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
    key = None
    if source.is_file():
        inputs = [source, *([speeds_path] if speeds_path else [])]
        key = cache.stage_key("routes", inputs, {"penalties": sorted(penalties or [])})
        if _skip("routes", key, [target], force):
            return io.read_provenance(target, "markets").get("routes", {})
    layers = {name: io.read_layer(source, name) for name in ("roads", "crossings", "markets", "hubs", "border")}
    penalty_hours = parse_penalties(penalties, list(layers["crossings"]["crossing_id"]))
    provenance = io.read_provenance(source, "roads")
    log.info("routing …")
    out = compute_routes(layers, speeds, penalty_hours)
    report = routes_report(out, speeds)
    metadata = {**provenance, "routes": report, "layers_file": str(source.resolve())}
    frames = {name: out[name] for name in ("routes", "markets", "roads", "crossings", "hubs", "bands")}
    io.write_gpkg(frames, target, metadata)
    cache.remember("routes", key, [target])
    lines = [f"*** {settings.DEMO_STAMP} ***"] if provenance.get("synthetic") else []
    for country, info in out["network"].items():
        if isinstance(info, dict):
            dropped = info["dropped"]
            lines.append(f"{country} network: {info['nodes']:,} nodes, {info['edges']:,} edges; dropped "
                         f"{dropped['components']} small components ({dropped['roads']} roads, "
                         f"{dropped['nodes']} nodes)")
    for row in out["crossings"].itertuples():
        if not row.usable and str(row.reason).startswith("no road within"):
            lines.append(f"warning: crossing {row.crossing_id} left out of routing: {row.reason} "
                         f"(North Korean side {row.kp_snap_m:,.0f} m, Chinese side {row.cn_snap_m:,.0f} m away)")
    per_province = pd.DataFrame(report["per_province"])
    lines.append(per_province.set_index("province").round(2).to_string() if len(per_province) else
                 "no markets to route: the layers hold no North Korean amenity=marketplace")
    print("\n".join(lines))
    log.info(f"wrote {target}")
    return report


def routes_report(out: dict, speeds) -> dict:
    """What the routes stage records with its GeoPackage: network, speeds, penalties, a per-province digest."""
    markets = out["markets"]
    per_province = markets.groupby("province").agg(markets=("reachable", "size"), reachable=("reachable", "sum"),
                                                   median_crossing_h=("crossing_h", "median"),
                                                   median_total_h=("total_h", "median"))
    return {"network": out["network"], "speeds": {"KP": speeds.speeds["KP"], "CN": speeds.speeds["CN"],
                                                  "unpaved_factor": speeds.unpaved_factor},
            "penalties_h": {cid: float(h) for cid, h in zip(out["crossings"]["crossing_id"],
                                                            out["crossings"]["penalty_h"])},
            "per_province": per_province.round(3).reset_index().to_dict("records")}


def run_reach(layers_dir: Path | None = None, out_dir: Path | None = None, force: bool = False) -> pd.DataFrame:
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
    outputs = [target / settings.REACH_CSV, target / settings.REACH_MD]
    key = cache.stage_key("reach", [layers_file, routes_file], {}) \
        if layers_file.is_file() and routes_file.is_file() else None
    if _skip("reach", key, outputs, force):
        return pd.read_csv(outputs[0])
    provinces = io.read_layer(layers_file, "provinces")
    markets = io.read_layer(routes_file, "markets")
    provenance = io.read_provenance(routes_file, "markets")
    table = reach_table(markets, provinces)
    io.write_csv(table, outputs[0])
    io.write_text(markdown_summary(table, provenance), outputs[1])
    cache.remember("reach", key, outputs)
    lines = [f"*** {settings.DEMO_STAMP} ***"] if provenance.get("synthetic") else []
    columns = ["code", "markets", "crossing_h_median", "crossing_h_p90", "crossing_within_4h",
               "crossing_unreachable", "hub_h_median"]
    lines += [table[columns].round(2).to_string(index=False), headline(table)]
    print("\n".join(lines))
    log.info(f"wrote {target / settings.REACH_CSV} and {settings.REACH_MD}")
    return table


def run_maps(layers_dir: Path | None = None, maps_dir: Path | None = None, offline: bool = False,
             force: bool = False) -> dict:
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
    from geo.maps import INDEX_FILE, MAP_FILES, MapInputs, build_maps, check_assets, index_page
    from geo.reach import read_reach

    layers_file = io.layers_path(layers_dir)
    folder = layers_file.parent
    routes_file = folder / settings.ROUTES_GPKG
    reach_file = folder / settings.REACH_CSV
    target = Path(maps_dir or settings.MAPS_DIR)
    io.ensure_writable(target)
    for path, stage in ((routes_file, "routes"), (reach_file, "reach")):
        if not path.exists():
            raise HamjiError(f"{path} does not exist; run 'hamji {stage}' (or 'hamji build') first")
    if offline:
        check_assets()
    reach = read_reach(reach_file)
    scenario_links, sensitivity = _scenario_links(folder, target)
    outputs = [target / name for name in (*MAP_FILES.values(), INDEX_FILE)]
    key = cache.stage_key("maps", [layers_file, routes_file, reach_file],
                          {"offline": offline, "scenarios": scenario_links, "sensitivity": sensitivity})
    if _skip("maps", key, outputs, force):
        return {p.name: p.stat().st_size for p in outputs}
    inputs = MapInputs(provinces=io.read_layer(layers_file, "provinces"), border=io.read_layer(layers_file, "border"),
                       roads=io.read_layer(routes_file, "roads"), crossings=io.read_layer(routes_file, "crossings"),
                       hubs=io.read_layer(routes_file, "hubs"), markets=io.read_layer(routes_file, "markets"),
                       bands=io.read_layer(routes_file, "bands"), reach=reach,
                       provenance=io.read_provenance(routes_file, "markets"))
    log.info("drawing maps …")
    pages, tolerances = build_maps(inputs, offline=offline)
    sizes = {name: len(html.encode()) for name, html in pages.items()}
    pages[INDEX_FILE] = index_page(inputs, sizes, scenario_links, sensitivity)
    sizes[INDEX_FILE] = len(pages[INDEX_FILE].encode())
    for name, html in pages.items():
        io.write_text(html, target / name)
    cache.remember("maps", key, outputs)
    lines = [f"*** {settings.DEMO_STAMP} ***"] if inputs.synthetic else []
    lines += [f"{name}: {size / 1e6:.2f} MB" + (f" (geometry simplified to {tolerances[name]:g} m)"
                                                 if name in tolerances else "")
              for name, size in sizes.items()]
    print("\n".join(lines))
    log.info(f"wrote {len(pages)} files to {target}" + (" (offline: assets inlined)" if offline else ""))
    return sizes


def _scenario_links(layers_folder: Path, maps_folder: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Scenario maps (for index.html) and sensitivity sentences made from the current baseline.

    Anything written before the baseline routes were last rebuilt compares
    with a baseline that no longer exists (a demo one, say) and is left out.
    """
    baseline = (layers_folder / settings.ROUTES_GPKG).stat().st_mtime

    def current(path: Path) -> bool:
        return path.exists() and path.stat().st_mtime >= baseline

    links = []
    for page in sorted((maps_folder / "scenarios").glob("*.html")):
        routes = layers_folder / "scenarios" / page.stem / settings.ROUTES_GPKG
        if current(routes) and current(page):
            info = io.read_provenance(routes, "markets").get("scenario", {})
            links.append((f"scenarios/{page.name}", f"Scenario: {info.get('name', page.stem)}"))
    sensitivity = layers_folder / settings.SENSITIVITY_MD
    sentences = [line[2:] for line in sensitivity.read_text(encoding="utf-8").splitlines() if line.startswith("- ")] \
        if current(sensitivity) else []
    return links, sentences


def _baseline(layers_dir: Path | None) -> dict:
    """The baseline run on disk: layers, routes provenance, markets and reach table."""
    from geo.network import validate_speeds
    from geo.reach import read_reach

    layers_file = io.layers_path(layers_dir)
    routes_file = layers_file.parent / settings.ROUTES_GPKG
    reach_file = layers_file.parent / settings.REACH_CSV
    for path, stage in ((layers_file, "layers"), (routes_file, "routes"), (reach_file, "reach")):
        if not path.exists():
            raise HamjiError(f"{path} does not exist; a scenario is compared with the baseline: run 'hamji {stage}' "
                             "(or 'hamji build') first")
    provenance = io.read_provenance(routes_file, "markets")
    report = provenance.get("routes", {})
    speeds = report.get("speeds", {})
    table = validate_speeds({c: {**speeds[c], "unpaved_factor": speeds["unpaved_factor"][c]} for c in ("KP", "CN")},
                            "baseline (as recorded by the routes stage)")
    return {"layers_file": layers_file, "provenance": provenance, "speeds": table,
            "penalties": report.get("penalties_h", {}),
            "layers": {name: io.read_layer(layers_file, name) for name in
                       ("roads", "crossings", "markets", "hubs", "border", "provinces")},
            "markets": io.read_layer(routes_file, "markets"),
            "reach": read_reach(reach_file)}


def run_scenario(name: str, layers_dir: Path | None = None, maps_dir: Path | None = None,
                 baseline: dict | None = None, offline: bool = False) -> dict:
    """Rerun routes and reach for a scenario from the layers on disk; compare with the baseline.

    Writes ``layers/scenarios/NAME/`` (routes GeoPackage, reach table and
    summary, per-market and per-province differences) and
    ``maps/scenarios/NAME.html`` (the difference map).

    Parameters
    ----------
    name
        A shipped scenario's name or a TOML file's path.
    layers_dir, maps_dir
        Where the baseline lives and where maps go (defaults from :mod:`geo.settings`).
    baseline
        The baseline already read (when several scenarios run in a row).
    offline
        Inline Leaflet into the difference map (see :func:`run_maps`).

    Returns
    -------
    dict
        ``scenario``, ``reach`` (its table), ``markets`` and ``provinces``
        (differences) and ``ordering`` (see :func:`geo.scenarios.orderings`).
    """
    from geo.maps import MapInputs, check_assets, difference_map, fit_page
    from geo.reach import markdown_summary, reach_table
    from geo.routes import compute_routes
    from geo.scenarios import apply_scenario, load_scenario, market_differences, orderings, province_differences

    scenario = load_scenario(name)
    if offline:
        check_assets()
    base = baseline or _baseline(layers_dir)
    folder = base["layers_file"].parent / "scenarios"
    maps_folder = Path(maps_dir or settings.MAPS_DIR) / "scenarios"
    layers, speeds, penalties = apply_scenario(scenario, base["layers"], base["speeds"], base["penalties"])
    io.ensure_writable(folder)
    io.ensure_writable(maps_folder)
    log.info(f"routing scenario {scenario.key} …")
    out = compute_routes(layers, speeds, penalties)
    report = routes_report(out, speeds)
    info = {"key": scenario.key, "name": scenario.name, "description": scenario.description,
            "file": scenario.source}
    provenance = {**base["provenance"], "routes": report, "scenario": info}
    reach = reach_table(out["markets"], base["layers"]["provinces"])
    markets = market_differences(base["markets"], out["markets"])
    provinces = province_differences(base["reach"], reach)
    ordering = orderings(reach)
    inputs = MapInputs(provinces=base["layers"]["provinces"], border=base["layers"]["border"], roads=out["roads"],
                       crossings=out["crossings"], hubs=out["hubs"], markets=out["markets"], bands=out["bands"],
                       reach=reach, provenance=provenance)
    page, _ = fit_page(f"scenarios/{scenario.key}.html",
                       lambda drawn: difference_map(drawn, markets, provinces, info), inputs, offline)

    staged = io.staging_folder(folder, scenario.key)
    try:
        frames = {key: out[key] for key in ("routes", "markets", "roads", "crossings", "hubs", "bands")}
        io.write_gpkg(frames, staged / settings.ROUTES_GPKG, provenance)
        io.write_csv(reach, staged / settings.REACH_CSV)
        io.write_text(markdown_summary(reach, provenance), staged / settings.REACH_MD)
        io.write_csv(markets, staged / "hamji_difference_markets.csv")
        io.write_csv(provinces, staged / "hamji_difference_provinces.csv")
        io.write_text(difference_summary(info, markets, provinces, ordering, provenance),
                      staged / "hamji_difference.md")
        io.replace_folder(staged, folder / scenario.key)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    io.write_text(page, maps_folder / f"{scenario.key}.html")
    print(difference_summary(info, markets, provinces, ordering, provenance, short=True))
    log.info(f"wrote {folder / scenario.key} and {maps_folder / (scenario.key + '.html')}")
    return {"scenario": info, "reach": reach, "markets": markets, "provinces": provinces, "ordering": ordering}


def ordering_sentence(label: str, ordering: dict) -> str:
    """One sentence: does every border province beat every far province, on both times?"""
    from geo.reach import format_hours
    from geo.scenarios import ORDERING_MEASURES

    parts = []
    for measure, (_, what) in ORDERING_MEASURES.items():
        result = ordering[measure]
        if result["holds"] is None:
            parts.append(f"cannot be judged on {what} ({result['reason']})")
            continue
        verb = "holds" if result["holds"] else "does NOT hold"
        parts.append(f"{verb} on median {what} (slowest border province {result['slowest_border']} "
                     f"{format_hours(result['slowest_border_h'])}, fastest far province {result['fastest_far']} "
                     f"{format_hours(result['fastest_far_h'])})")
    return f"{label}: the border-before-far ordering " + "; it ".join(parts) + "."


def difference_summary(info: dict, markets: pd.DataFrame, provinces: pd.DataFrame, ordering: dict,
                       provenance: dict, short: bool = False) -> str:
    """A scenario's differences as Markdown (or, ``short``, a few lines for the terminal)."""
    from geo.reach import format_hours, format_share

    changed = int(markets["nearest_crossing_changed"].sum())
    lost, gained = int(markets["lost_reach"].sum()), int(markets["gained_reach"].sum())
    slower = int((markets["crossing_change_h"] > 0.05).sum())
    faster = int((markets["crossing_change_h"] < -0.05).sum())
    lines = [f"*** {settings.DEMO_STAMP} ***"] if provenance.get("synthetic") and short else []
    head = f"Scenario {info['name']} ({info['key']})"
    lines += [head if short else f"# {head}", ""]
    if not short:
        if provenance.get("synthetic"):
            lines += [f"**{settings.DEMO_STAMP}.**", ""]
        lines += [info["description"], "", f"- Scenario file: {info['file']}",
                  f"- Data: {provenance.get('source')}, OpenStreetMap data as of {provenance.get('osm_timestamp')}."]
    lines += [f"- {len(markets)} markets: nearest crossing changed for {changed}, {slower} slower and {faster} faster "
              f"by more than 3 minutes, {lost} no longer reachable, {gained} newly reachable.",
              "- " + ordering_sentence("In this scenario", ordering)]
    if not short:
        lines += ["", "| Row | Median to crossing: before → after | Within 4 h: before → after | "
                  "Median hub→market: before → after |", "|---|---|---|---|"]
        for r in provinces.itertuples():
            lines.append(f"| {r.name} | {format_hours(r.crossing_h_median_base)} → "
                         f"{format_hours(r.crossing_h_median_scenario)} | {format_share(r.crossing_within_4h_base)} → "
                         f"{format_share(r.crossing_within_4h_scenario)} | {format_hours(r.hub_h_median_base)} → "
                         f"{format_hours(r.hub_h_median_scenario)} |")
    return "\n".join(lines) + "\n"


def run_sensitivity(layers_dir: Path | None = None, maps_dir: Path | None = None,
                    names: list[str] | None = None, offline: bool = False) -> pd.DataFrame:
    """Does the headline survive other assumptions? Run the sensitivity scenarios against the baseline.

    Writes ``hamji_sensitivity.csv`` and ``hamji_sensitivity.md`` beside the
    reach table (one sentence per scenario), and each scenario's own outputs.
    """
    from geo.scenarios import ORDERING_MEASURES, orderings

    base = _baseline(layers_dir)
    names = list(names or settings.SENSITIVITY_SCENARIOS)
    results = [("baseline", "Baseline", orderings(base["reach"]))]
    for name in names:
        result = run_scenario(name, layers_dir, maps_dir, baseline=base, offline=offline)
        results.append((result["scenario"]["key"], result["scenario"]["name"], result["ordering"]))
    rows = []
    for key, label, ordering in results:
        row = {"scenario": key, "name": label}
        for measure, (prefix, _) in ORDERING_MEASURES.items():
            result = ordering[measure]
            row[f"{prefix}_ordering_holds"] = result["holds"]
            for field in ("slowest_border", "slowest_border_h", "fastest_far", "fastest_far_h", "border_median_h",
                          "far_median_h"):
                row[f"{prefix}_{field}"] = result.get(field)
        rows.append(row)
    table = pd.DataFrame(rows)
    folder = base["layers_file"].parent
    lines = ["# Sensitivity of the border-against-far comparison", ""]
    if base["provenance"].get("synthetic"):
        lines += [f"**{settings.DEMO_STAMP}.**", ""]
    lines += ["Each scenario reruns the routes from the same layers; the ordering holds when every border province's "
              "median is below every far province's.", ""]
    lines += [f"- {ordering_sentence(label, ordering)}" for _, label, ordering in results]
    text = "\n".join(lines) + "\n"
    io.write_csv(table, folder / settings.SENSITIVITY_CSV)
    io.write_text(text, folder / settings.SENSITIVITY_MD)
    print(text)
    return table
