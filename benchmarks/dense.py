"""A generated extract at real density on both sides of the border: the whole pipeline's benchmark input.

OSM draws roads with a vertex every few tens of metres. :func:`write_dense_extract`
lays a road grid over the fixture's North Korean provinces (``kp_road_km``,
OSM's North Korean total) and another over all of Jilin (``cn_road_km``,
about Jilin's official road length), each with a vertex every ``vertex_m``
and ways of about 2 km, joins the fixture's towns (crossings' approaches,
Chinese hubs) to the grid of their side, and adds ~450 markets. Unlike
:func:`benchmarks.pipeline.country_extract`, no Python object is made per
node: the grid is computed with numpy and written as OPL text, then merged
with the fixture into one sorted ``.osm.pbf`` by libosmium, so that tens of
millions of vertices take a minute or two. Every element keeps the
``hamji:synthetic=yes`` tag, so everything built from it is stamped DEMO.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import osmium
import shapely

from geo import settings
from geo.sources import fixture

#: Grid ids start far above the fixture's, as in a real file's id ranges.
NODE_ID0, WAY_ID0 = 10_000_000_000, 1_000_000_000
#: OSM's North Korean road total, and Jilin's official road length (about 107,000 km in 2020).
KP_ROAD_KM, CN_ROAD_KM = 116_000.0, 107_000.0
#: Ways about this long, as OSM splits roads at junctions and tag changes.
WAY_M = 2_000.0
_SYNTHETIC = f"{settings.SYNTHETIC_TAG}=yes"
#: A grid line's class by its number: every 10th primary, every 4th secondary, every 2nd tertiary.
_CLASSES = ("primary", "secondary", "tertiary", "unclassified")


def _opl_text(value: str) -> str:
    """A tag key or value escaped for OPL (``%hex%`` for anything but plain ASCII letters, digits and ``_:.-``)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "_:.-") else f"%{ord(c):x}%" for c in value)


def _tags(tags: dict[str, str]) -> str:
    return ",".join([_SYNTHETIC, *(f"{_opl_text(k)}={_opl_text(v)}" for k, v in tags.items())])


def _area(prefixes: tuple[str, ...]) -> shapely.Geometry:
    """The fixture's provinces with these code prefixes, as one polygon in the measuring CRS, off their edges."""
    shapes = [g for code, g in fixture.province_shapes().items() if code.startswith(prefixes) and code != "CN-JL-YB"]
    return fixture._utm(shapely.union_all(shapes)).buffer(-1_500)


class _Grid:
    """One side's road grid: lattice points on the grid lines inside an area, numbered as OSM nodes."""

    def __init__(self, area: shapely.Geometry, road_km: float, vertex_m: float, first_id: int):
        # A square grid of spacing s has 2/s km of road per km².
        self.spacing = 2 * area.area / (road_km * 1000)
        self.sub = max(1, round(self.spacing / vertex_m))
        self.step = self.spacing / self.sub
        minx, miny, maxx, maxy = area.bounds
        self.xs = np.arange(minx, maxx + self.step, self.step)
        self.ys = np.arange(miny, maxy + self.step, self.step)
        nx, ny = len(self.xs), len(self.ys)
        on_line = np.zeros((nx, ny), bool)
        on_line[:, :: self.sub] = True
        on_line[:: self.sub, :] = True
        ii, jj = np.nonzero(on_line)
        inside = shapely.contains_xy(area, self.xs[ii], self.ys[jj])
        self.ids = np.full((nx, ny), -1, np.int64)
        self.ids[ii[inside], jj[inside]] = first_id + np.arange(int(inside.sum()))
        self.i, self.j = ii[inside], jj[inside]

    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        return fixture._TO_LONLAT.transform(self.xs[self.i], self.ys[self.j])

    def ways(self, rng: np.random.Generator) -> tuple[list[str], float]:
        """Way bodies (OPL after the id) along every grid line, and their length in metres."""
        edges = max(1, round(WAY_M / self.step))
        bodies, road_m = [], 0.0
        rows = [self.ids[:, j] for j in range(0, self.ids.shape[1], self.sub)]
        columns = [self.ids[i, :] for i in range(0, self.ids.shape[0], self.sub)]
        for number, line in [*enumerate(rows), *enumerate(columns)]:
            highway = _CLASSES[next(k for k, every in enumerate((10, 4, 2, 1)) if number % every == 0)]
            inside = line >= 0
            # Runs of consecutive nodes inside the area, cut into ways of `edges` edges.
            change = np.flatnonzero(np.diff(np.r_[False, inside, False].astype(np.int8)))
            for start, stop in zip(change[::2], change[1::2]):
                for a in range(start, stop - 1, edges):
                    run = line[a : min(a + edges, stop - 1) + 1]
                    surface = {"surface": "unpaved"} if rng.random() < 0.3 else {}
                    bodies.append(f"T{_tags({'highway': highway, **surface})} N" + ",".join(f"n{n}" for n in run))
                    road_m += (len(run) - 1) * self.step
        return bodies, road_m

    def nearest(self, x: float, y: float) -> int:
        """The grid node nearest a point (measuring CRS)."""
        k = int(np.argmin(np.hypot(self.xs[self.i] - x, self.ys[self.j] - y)))
        return int(self.ids[self.i[k], self.j[k]])


def write_dense_extract(
    path: Path,
    vertex_m: float,
    kp_road_km: float = KP_ROAD_KM,
    cn_road_km: float = CN_ROAD_KM,
    markets: int = 450,
    seed: int = 7,
) -> dict:
    """Write the fixture plus both sides' road grids as one sorted ``.osm.pbf``. Returns what it holds."""
    path = Path(path)
    rng = np.random.default_rng(seed)
    data = fixture.build()
    kp = _Grid(_area(("KP",)), kp_road_km, vertex_m, NODE_ID0)
    cn = _Grid(_area(("CN-JL",)), cn_road_km, vertex_m, NODE_ID0 + len(kp.i))
    next_node = NODE_ID0 + len(kp.i) + len(cn.i)
    opl = path.with_name(f".{path.stem}.grid.opl")
    info = {"vertex_m": round(kp.step, 1), "kp_vertices": len(kp.i), "cn_vertices": len(cn.i)}
    with opl.open("w") as out:
        for grid in (kp, cn):
            lon, lat = grid.lonlat()
            ids = grid.ids[grid.i, grid.j]
            for s in range(0, len(ids), 500_000):
                chunk = slice(s, s + 500_000)
                rows = zip(ids[chunk].tolist(), lon[chunk].tolist(), lat[chunk].tolist())
                out.write("".join(f"n{n} v1 x{x:.7f} y{y:.7f} T{_SYNTHETIC}\n" for n, x, y in rows))
        ways, road_m = [], {}
        for name, grid in (("KP", kp), ("CN", cn)):
            bodies, road_m[name] = grid.ways(rng)
            ways += bodies
        # Join the fixture's towns to the grid of their side, so each side is one network.
        for town, (lat, lon, country, _, _) in fixture.TOWNS.items():
            tags_of = ((n["id"], n["tags"]) for n in data.nodes.values())
            node = next(i for i, tags in tags_of if tags.get("name:en") == town and "place" in tags)
            x, y = fixture._TO_UTM.transform(lon, lat)
            grid = kp if country == "KP" else cn
            tags = {"highway": "secondary", "name": f"{town} link"}
            ways.append(f"T{_tags(tags)} Nn{node},n{grid.nearest(x, y)}")
        extra = max(0, markets - len(fixture.MARKETS))
        squares = []
        for k, pick in enumerate(rng.choice(len(kp.i), size=extra, replace=False)):
            lon, lat = fixture._TO_LONLAT.transform(kp.xs[kp.i[pick]] + 60, kp.ys[kp.j[pick]] + 60)
            tags = {"amenity": "marketplace", "name": f"장마당 {k}", "name:en": f"Bench market {k}"}
            if k % 10 == 0:
                ring = list(range(next_node, next_node + 4))
                for n, (px, py) in zip(ring, fixture._square(lon, lat, 120)[:-1]):
                    out.write(f"n{n} v1 x{px:.7f} y{py:.7f} T{_SYNTHETIC}\n")
                next_node += 4
                squares.append(f"T{_tags(tags)} N" + ",".join(f"n{n}" for n in [*ring, ring[0]]))
            else:
                out.write(f"n{next_node} v1 x{lon:.7f} y{lat:.7f} T{_tags(tags)}\n")
                next_node += 1
        ways += squares
        out.write("".join(f"w{WAY_ID0 + i} v1 {body}\n" for i, body in enumerate(ways)))
    fixture_pbf = path.with_name(f".{path.stem}.fixture.osm.pbf")
    from benchmarks.pipeline import write_pbf

    write_pbf(data, fixture_pbf)
    tmp = path.with_name(f".{path.name}.tmp.osm.pbf")
    tmp.unlink(missing_ok=True)
    # Fixture ids are all below the grid's, so node, way and relation runs stay sorted.
    with osmium.SimpleWriter(str(tmp)) as writer:
        for kinds in (osmium.osm.NODE, osmium.osm.WAY, osmium.osm.RELATION):
            for source in (fixture_pbf, opl):
                for obj in osmium.FileProcessor(str(source), kinds):
                    writer.add(obj)
    os.replace(tmp, path)
    opl.unlink()
    fixture_pbf.unlink()
    return {
        **info,
        "road_km": round(sum(road_m.values()) / 1000),
        "kp_road_km": round(road_m["KP"] / 1000),
        "cn_road_km": round(road_m["CN"] / 1000),
        "nodes": len(data.nodes) + next_node - NODE_ID0,
        "ways": len(data.ways) + len(ways),
        "relations": len(data.relations),
        "markets": extra + len(fixture.MARKETS),
    }
