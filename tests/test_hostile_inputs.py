"""Hostile inputs that must be bounded: compression bombs, XML with huge tokens, misbehaving Overpass
servers, bad environment variables, malformed JSON/TOML/CSV shapes and odd OSM data.

Each case runs ``hamji`` as its own process against a complete demo build (``refused`` from
``test_hostile``): exit code 1, one ``hamji: error:`` line, no traceback, earlier outputs
byte-identical, and done within 60 s.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import time
from pathlib import Path

import osmium
import pytest
import test_hostile
from conftest import folder_args, hamji, refused
from fake_overpass import FakeOverpass

from geo.io import csv_safe
from geo.sources import fixture

HEAD = b"<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='test'>\n"
NODE = b"<node id='1' version='1' timestamp='2025-01-01T00:00:00Z' lat='42.4' lon='129.7'/>\n"
TAIL = b"</osm>\n"


def quick_refusal(root: Path, *args: str, env: dict | None = None) -> str:
    started = time.monotonic()
    line = refused(root, *args, env=env)
    assert time.monotonic() - started < 60, line
    return line


def layers_from(previous_root: Path, extract: Path, env: dict | None = None) -> str:
    return quick_refusal(previous_root, "layers", "--osm", str(extract), *folder_args("layers", previous_root), env=env)


def compressed(path: Path, parts, kind: str) -> Path:
    """Write the byte strings ``parts`` (an iterable, so a bomb is never whole in memory) compressed.

    A ``.gz`` is one member. A ``.bz2`` is one stream per part, as pbzip2 and lbzip2 write it: bzip2
    compresses repeated text at about 3 MB/s, so a 1 GiB single stream would take the test five
    minutes, while each distinct part compressed once and repeated is as much a bomb to the reader.
    """
    if kind == "bz2":
        streams: dict[bytes, bytes] = {}
        with path.open("wb") as handle:
            for part in parts:
                if part not in streams:
                    streams[part] = bz2.compress(part, 9)
                handle.write(streams[part])
        return path
    with gzip.open(path, "wb", 9) as handle:
        for part in parts:
            handle.write(part)
    return path


def repeated(head: bytes, block: bytes, total: int, tail: bytes = b""):
    yield head
    for _ in range(total // len(block)):
        yield block
    yield tail


MIB = 1 << 20


# -- compressed input ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gz", "bz2"])
def test_bomb_of_valid_nodes_is_refused_by_its_ratio(previous, tmp_path, kind):
    nodes = NODE * (MIB // len(NODE))
    bomb = compressed(tmp_path / f"bomb.osm.{kind}", repeated(HEAD, nodes, 1024 * MIB, TAIL), kind)
    assert bomb.stat().st_size < 4 * MIB
    line = layers_from(previous, bomb)
    assert "expands more than 100 times (a decompression bomb?)" in line
    assert "settings.COMPRESSION_MAX_RATIO (or set HAMJI_COMPRESSION_MAX_RATIO)" in line


@pytest.mark.parametrize("kind", ["gz", "bz2"])
def test_bomb_of_one_comment_is_refused_by_the_token_limit(previous, tmp_path, kind):
    bomb = compressed(tmp_path / f"comment.osm.{kind}", repeated(HEAD + b"<!--", b"x" * MIB, 1024 * MIB), kind)
    line = layers_from(previous, bomb)
    assert "holds an XML comment or processing instruction of more than 1 MiB" in line


@pytest.mark.parametrize("kind", ["gz", "bz2"])
def test_bomb_of_zeros_is_refused(previous, tmp_path, kind):
    bomb = compressed(tmp_path / f"zeros.osm.{kind}", repeated(b"", b"\0" * MIB, 1024 * MIB), kind)
    assert bomb.stat().st_size < 4 * MIB
    assert "OSM extract" in layers_from(previous, bomb)


def test_decompressed_size_limit_is_configurable(previous, tmp_path):
    # A modest, valid-looking file over a lowered limit: the limit and how to raise it are named.
    data = HEAD + b"".join(NODE.replace(b"id='1'", f"id='{i}'".encode()) for i in range(1, 60_000)) + TAIL
    path = compressed(tmp_path / "many.osm.gz", [data], "gz")
    line = layers_from(previous, path, env={"HAMJI_DECOMPRESSED_MAX_BYTES": str(MIB)})
    assert "expands to more than 1 MiB" in line and "HAMJI_DECOMPRESSED_MAX_BYTES" in line


@pytest.mark.parametrize(
    "name, body, expected",
    [
        # mtime=0: gzip stamps the time, and test ids must be the same in every pytest-xdist worker.
        ("truncated.osm.gz", gzip.compress(HEAD + NODE * 1000, mtime=0)[:-200], "cannot be decompressed"),
        ("garbage.osm.bz2", b"BZh9" + b"\x00" * 500, "cannot be decompressed"),
        ("xz-in-disguise.osm.gz", lzma.compress(HEAD + NODE + TAIL), "cannot be decompressed"),
    ],
    ids=["truncated-gzip", "garbage-bzip2", "xz-named-gz"],
)
def test_damaged_compressed_files(previous, tmp_path, name, body, expected):
    path = tmp_path / name
    path.write_bytes(body)
    assert expected in layers_from(previous, path)


def test_bad_limit_variable_is_one_line(previous, tmp_path):
    path = compressed(tmp_path / "x.osm.gz", [HEAD + NODE + TAIL], "gz")
    line = layers_from(previous, path, env={"HAMJI_COMPRESSION_MAX_RATIO": "lots"})
    assert "environment variable HAMJI_COMPRESSION_MAX_RATIO='lots' is not a number more than 0" in line


# -- XML stays linear ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        (HEAD + b"<!--" + b"x" * (64 * MIB) + b"-->" + NODE + TAIL, "XML comment or processing instruction"),
        (HEAD + b"<?pi " + b"x" * (8 * MIB) + b"?>" + NODE + TAIL, "XML comment or processing instruction"),
        (HEAD + b"<node id='1' v='" + b">" * (8 * MIB) + b"'/>" + TAIL, "an XML token or text of more than"),
        (HEAD + b" " * (8 * MIB) + NODE + TAIL, "an XML token or text of more than"),
        (b"<?xml version='1.0'?>\n<!DOCTYPE osm [<!ENTITY a 'b'>]>\n<osm/>", "a DOCTYPE"),
        (HEAD + b"<![CDATA[x]]>" + TAIL, "a CDATA section"),
    ],
    ids=["long-comment", "long-pi", "long-attribute", "long-text", "doctype", "cdata"],
)
def test_xml_tokens_are_bounded(previous, tmp_path, body, expected):
    path = tmp_path / "hostile.osm"
    path.write_bytes(body)
    line = layers_from(previous, path)
    assert expected in line and "XML_TOKEN_MAX_BYTES" in line or "DOCTYPE" in line or "CDATA" in line


def test_long_comment_in_gzip_is_refused_fast(previous, tmp_path):
    path = compressed(tmp_path / "comment.osm.gz", [HEAD + b"<!--", b"x" * (128 * MIB), b"-->" + NODE + TAIL], "gz")
    started = time.monotonic()
    layers_from(previous, path)
    assert time.monotonic() - started < 30


# -- odd OSM data -------------------------------------------------------------------------------------


def test_tag_value_over_libosmiums_limit(previous, tmp_path):
    path = tmp_path / "long-tag.osm"
    path.write_bytes(
        HEAD + b"<node id='1' version='1' lat='42' lon='130'><tag k='name' v='" + b"x" * 2000 + b"'/></node>\n" + TAIL
    )
    line = layers_from(previous, path)
    assert "OSM tag value is too long" in line and str(path) in line


def test_pbf_whose_string_table_is_not_utf8(previous, tmp_path):
    path = tmp_path / "bad-utf8.osm.pbf"
    writer = osmium.SimpleWriter(osmium.io.File(str(path), "pbf,pbf_compression=none"))
    node = osmium.osm.mutable.Node(
        id=1, version=1, location=(129.7, 42.4), tags={"amenity": "marketplace", "name": "MARKNAME"}
    )
    writer.add_node(node)
    writer.close()
    data = path.read_bytes()
    at = data.find(b"MARKNAME")
    path.write_bytes(data[:at] + b"\xff" + data[at + 1 :])
    line = layers_from(previous, path)
    assert "holds text that is not UTF-8" in line and str(path) in line


# -- environment --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variable, value",
    [
        ("HAMJI_OVERPASS_RETRY_PAUSE_S", "abc"),
        ("HAMJI_OVERPASS_RETRY_PAUSE_S", "-5"),
        ("HAMJI_OVERPASS_TIMEOUT_S", "nan"),
        ("HAMJI_OVERPASS_TIMEOUT_S", "1e300"),  # overflowed setitimer
        ("HAMJI_OVERPASS_RETRY_PAUSE_S", "1e300"),  # overflowed time.sleep
        ("HAMJI_OVERPASS_MAX_ANSWER_BYTES", "-1"),
        ("HAMJI_OVERPASS_URL", "ftp://example.org"),
    ],
)
def test_bad_overpass_variables_are_one_line(previous, variable, value):
    env = {variable: value}
    if variable != "HAMJI_OVERPASS_URL":
        env["HAMJI_OVERPASS_URL"] = "http://127.0.0.1:9/api"
    line = quick_refusal(previous, "layers", "--province", "KP-13", *folder_args("layers", previous), env=env)
    if variable == "HAMJI_OVERPASS_URL":
        assert "Overpass URL 'ftp://example.org' is not an http:// or https:// URL" in line
    else:
        assert f"environment variable {variable}=" in line and "fix or unset it" in line


def test_bad_pause_variable_does_not_break_reach(previous):
    done = hamji("reach", "--force", *folder_args("reach", previous), env={"HAMJI_OVERPASS_RETRY_PAUSE_S": "abc"})
    assert "Traceback" not in done.stderr and done.returncode == 0, done.stderr


# -- market lists and people areas ------------------------------------------------------------------


def market_list(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def point(lon=129.7, lat=42.4, properties=None):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("a.csv", "Name,name,lon,lat\na,b,129.7,42.4\n", "names 'Name' and 'name' are the same"),
        ("b.csv", "name,lon,LON,lat\na,129.7,129.7,42.4\n", "names 'lon' and 'LON' are the same"),
        ("c.csv", "name,lon, lon ,lat\na,129.7,129.7,42.4\n", "are the same once case and spaces are ignored"),
        ("d.geojson", json.dumps({"features": "hello"}), "has a string as its 'features'"),
        ("e.geojson", json.dumps([1, 2]), "is not GeoJSON"),
        ("f.geojson", json.dumps({"features": [{"geometry": "POINT(1 2)"}]}), "feature 1: 'geometry' is a string"),
        ("g.geojson", json.dumps({"features": [{"geometry": None, "properties": [1]}]}), "'properties' is a list"),
        ("h.geojson", json.dumps({"features": ["hello"]}), "feature 1 is a string"),
        ("i.geojson", json.dumps({"features": [point(properties={"Name": "a", "NAME": "b"})]}), "are the same"),
        ("j.geojson", '{"features": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests deeper than 32 levels"),
        ("k.geojson", '{"features": [' + '{"a":' * 50 + "1" + "}" * 50 + "]}", "nests deeper than 32 levels"),
    ],
)
def test_market_list_shapes(previous, tmp_path, name, text, expected):
    path = market_list(tmp_path, name, text)
    line = quick_refusal(
        previous, "layers", "--demo", "--force", "--markets", str(path), *folder_args("layers", previous)
    )
    assert expected in line and str(path) in line


@pytest.mark.parametrize(
    "text, expected",
    [
        (json.dumps({"features": "hello"}), "has no 'features' list"),
        ('{"features": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests deeper than 32 levels"),
        ("[" * 50 + "]" * 50, "nests deeper than 32 levels"),
        (json.dumps("just a string"), "is not GeoJSON"),
    ],
)
def test_people_area_shapes(previous, tmp_path, text, expected):
    path = market_list(tmp_path, "areas.geojson", text)
    line = quick_refusal(previous, "reach", "--force", "--people-areas", str(path), *folder_args("reach", previous))
    assert expected in line


# -- TOML nested deep -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["x = " + "[" * 50_000 + "]" * 50_000, "x = " + "{a = " * 5_000 + "1" + "}" * 5_000, "[" + "a." * 40 + "b]\nc = 1"],
    ids=["arrays", "inline-tables", "dotted-tables"],
)
def test_deep_toml(previous, tmp_path, text):
    path = tmp_path / "deep.toml"
    path.write_text(text)
    line = quick_refusal(previous, "routes", "--force", "--speeds", str(path), *folder_args("routes", previous))
    assert "nests deeper than 32 levels" in line or "is not valid TOML" in line
    line = quick_refusal(previous, "scenario", str(path), *folder_args("scenario", previous))
    assert "nests deeper than 32 levels" in line or "is not valid TOML" in line


# -- Overpass servers that misbehave -------------------------------------------------------------------


@pytest.fixture
def server():
    fake = FakeOverpass(fixture.to_overpass_json(fixture.build())["elements"])
    fake.drip_s = 1.0
    yield fake
    fake.stop()


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("drip", "no complete answer within 3 s"),
        ("endless-headers", "no complete answer within 3 s"),
        ("truncated", "failed on the data date query: the answer broke off before its end"),
        ("redirect-loop", "failed on the data date query: the server redirects (HTTP 302) to the same address"),
        ("redirect-307-loop", "failed on the data date query: the server redirects without end"),
        ("close", "failed on the data date query: the server closed the connection without a complete answer"),
    ],
)
def test_misbehaving_overpass_servers(previous, tmp_path, server, mode, expected):
    server.mode = mode
    started = time.monotonic()
    line = quick_refusal(
        previous,
        "layers",
        "--overpass-url",
        server.url,
        "--province",
        "KP-13",
        *folder_args("layers", previous),
        env={"HAMJI_CACHE_DIR": str(tmp_path / "cache"), "HAMJI_OVERPASS_TIMEOUT_S": "3"},
    )
    assert expected in line and "cannot reach" not in line
    assert time.monotonic() - started < 30


#: The text of the first request (the data date) and of the roads request.
DATA_DATE, ROADS = "timeout:25];out;", "['highway'="
#: A whole, valid answer to the data date request.
DATE_ANSWER = json.dumps({"osm3s": {"timestamp_osm_base": "2026-01-01T00:00:00Z"}, "elements": []}).encode()
GZIP = {"Content-Encoding": "gzip"}

WRONG_ANSWERS = {
    "html-200": ((200, b"<html><body>Bad Gateway</body></html>", "text/html"), "the answer is not JSON but text/html"),
    "json-as-text": ((200, DATE_ANSWER, "text/plain"), "the answer is not JSON but text/plain (an error page?)"),
    "empty": ((200, b"", "application/json"), "the answer is empty"),
    "two-gzip-documents": (
        (200, gzip.compress(DATE_ANSWER, mtime=0) * 2, "application/json", GZIP),
        f"the answer is not valid JSON (more after the first JSON document at byte {len(DATE_ANSWER)})",
    ),
    "damaged-gzip": (
        (200, b"\x1f\x8b\x08\x00" + b"not deflate data" * 8, "application/json", GZIP),
        "the answer's compression (Content-Encoding) is damaged",
    ),
    "moved": (
        (301, b"", "text/plain", {"Location": "https://overpass.example/api/interpreter"}),
        "the server redirects (HTTP 301) to https://overpass.example/api/interpreter; give that address",
    ),
}


@pytest.mark.parametrize("query", ["data date", "roads"])
@pytest.mark.parametrize("case", list(WRONG_ANSWERS))
def test_a_wrong_answer_names_its_cause(previous, tmp_path, server, query, case):
    """The server was reached: a bad answer says what was wrong with it, on either request, never "cannot reach"."""
    (status, body, kind, *headers), expected = WRONG_ANSWERS[case]
    server.failure = (status, body, kind, DATA_DATE if query == "data date" else ROADS, *headers)
    line = quick_refusal(
        previous,
        "layers",
        "--overpass-url",
        server.url,
        "--province",
        "KP-13",
        *folder_args("layers", previous),
        env={"HAMJI_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert f"Overpass at {server.url} failed on the {query} query: {expected}" in line, line
    assert "cannot reach" not in line
    advice = "Check the Overpass URL" if query == "data date" else "Try a smaller area (fewer provinces)"
    assert f"nothing was written. {advice}, try again later, or use a local extract" in line


def test_an_answer_in_two_gzip_members_is_read_whole(tmp_path, server):
    """Concatenated gzip members are one stream (RFC 1952): an answer split in two is still the answer."""
    half = len(DATE_ANSWER) // 2
    members = gzip.compress(DATE_ANSWER[:half]) + gzip.compress(DATE_ANSWER[half:])
    server.failure = (200, members, "application/json", DATA_DATE, GZIP)
    out = tmp_path / "layers"
    done = hamji(
        "layers",
        "--overpass-url",
        server.url,
        "--province",
        "KP-13",
        "--out",
        str(out),
        env={"HAMJI_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr
    assert "OSM data date: 2026-01-01T00:00:00Z" in done.stdout


def test_bad_status_page_does_not_loop(previous, tmp_path, server):
    server.mode = "bad-status"
    root = tmp_path / "out"
    done = hamji(
        "layers",
        "--overpass-url",
        server.url,
        "--province",
        "KP-13",
        "--out",
        str(root),
        env={"HAMJI_CACHE_DIR": str(tmp_path / "cache")},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert not any("/status" in q for q in server.queries)


def test_osmnx_settings_are_restored_after_a_call(tmp_path, server):
    import osmnx as ox

    import geo
    from geo import settings

    before = {
        k: v
        for k, v in vars(ox.settings).items()
        if not k.startswith("_") and isinstance(v, str | int | float | bool | dict | list | type(None))
    }
    settings.OVERPASS_CACHE_DIR = tmp_path / "cache"
    try:
        geo.layers_from_overpass(server.url, ["KP-13"])
    finally:
        del settings.OVERPASS_CACHE_DIR
    after = {k: v for k, v in vars(ox.settings).items() if k in before}
    assert after == before
    assert ox.settings.overpass_url != server.url.rstrip("/") and ox.settings.requests_kwargs == {}


# -- the CSV guard --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        " =1+1",
        "\t=1",
        "\u3000@SUM(A1)",
        "\uff1d1+1",
        "\uff0b1",
        "\uff0d1",
        "\uff20x",
        "\n=1",
        "\r=1",
        "\x00x",
        "\u200b=1",
        "\x1b[31m",
    ],
)
def test_csv_guard(cell):
    assert csv_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Hoeryong", "a=b", "1 + 1", "", "시장"])
def test_csv_guard_leaves_plain_text(cell):
    assert csv_safe(cell) == cell


# -- answers too large, numbers too long, bookkeeping that is not HamJi's -----------------------------


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip-bomb"])
def test_an_overpass_answer_over_the_size_limit_is_refused(previous, tmp_path, server, compressed):
    """Read in pieces up to the limit (decompressed): a server sending without end cannot fill memory."""
    body = DATE_ANSWER[:-2] + b" " * (3 * MIB) + DATE_ANSWER[-2:]  # still valid JSON, only too large
    headers = [GZIP] if compressed else []
    server.failure = (200, gzip.compress(body) if compressed else body, "application/json", DATA_DATE, *headers)
    line = quick_refusal(
        previous,
        "layers",
        "--overpass-url",
        server.url,
        "--province",
        "KP-13",
        *folder_args("layers", previous),
        env={"HAMJI_CACHE_DIR": str(tmp_path / "cache"), "HAMJI_OVERPASS_MAX_ANSWER_BYTES": str(MIB)},
    )
    assert f"failed on the data date query: the answer holds more than {MIB:,} bytes" in line
    assert "HAMJI_OVERPASS_MAX_ANSWER_BYTES" in line


BIG = "1" + "0" * 400  # a TOML integer no float holds


def test_a_speed_too_long_for_a_float_is_one_line(previous, tmp_path):
    table = tmp_path / "speeds.toml"
    rows = "".join(f"{k} = {BIG if k == 'primary' else 30}\n" for k in test_hostile.SPEED_CLASSES)
    table.write_text(f"[KP]\n{rows}unpaved_factor = 0.6\n[CN]\n{rows.replace(BIG, '30')}unpaved_factor = 0.6\n")
    line = quick_refusal(previous, "routes", "--force", "--speeds", str(table), *folder_args("routes", previous))
    assert "[KP] primary (km/h) = 1000000" in line and "it must be a number more than 0 and at most 200" in line


def test_a_scenario_number_too_long_for_a_float_is_one_line(previous, tmp_path):
    scenario = tmp_path / "big.toml"
    scenario.write_text(f"[penalties]\ndefault_h = {BIG}\n")
    line = quick_refusal(previous, "scenario", str(scenario), *folder_args("scenario", previous))
    assert "penalties.default_h = 1000000" in line and "it must be a number at least 0 and at most 240" in line


def test_a_population_too_long_for_a_float_is_one_line(previous, tmp_path):
    ring = [[129.0, 42.0], [130.0, 42.0], [130.0, 43.0], [129.0, 42.0]]
    geometry = json.dumps({"type": "Polygon", "coordinates": [ring]})
    path = market_list(
        tmp_path,
        "areas.geojson",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"population": '
        + BIG
        + '}, "geometry": '
        + geometry
        + "}]}",
    )
    line = quick_refusal(previous, "reach", "--force", "--people-areas", str(path), *folder_args("reach", previous))
    assert "feature 1 has population 1000000" in line and "more than the 1,000,000,000 people any one area" in line
