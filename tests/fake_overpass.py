"""A small Overpass API on 127.0.0.1 that answers from fixture elements.

It evaluates the query forms osmnx sends for ``features_from_polygon``:
``(node|way|relation)['key'(='value')](poly:'lat lon …');(._;>;);`` unions,
with Overpass semantics close enough for tests: a node matches if it lies in
the polygon, a way if one of its nodes does, a relation if one of its
members does; ``>`` adds ways' nodes and relations' members (and their
nodes). It also serves ``/status`` the way osmnx reads it, and records every
query so tests can check what was asked.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from shapely import Point, Polygon, prepared

COMPONENT = re.compile(r"\((node|way|relation)\['([^']+)'(?:='([^']*)')?\]\(poly:'([^']+)'\);\(\._;>;\);\)")


class FakeOverpass:
    """Serve ``elements`` (Overpass JSON element dicts) until :meth:`stop`."""

    def __init__(self, elements: list[dict], timestamp: str = "2026-01-01T00:00:00Z") -> None:
        self.nodes = {e["id"]: e for e in elements if e["type"] == "node"}
        self.ways = {e["id"]: e for e in elements if e["type"] == "way"}
        self.relations = {e["id"]: e for e in elements if e["type"] == "relation"}
        self.timestamp = timestamp
        self.queries: list[str] = []
        #: (status, body, content type, text the query must contain[, extra headers]): answer
        #: matching queries with this instead, to test how failures are handled.
        self.failure: tuple | None = None
        #: A misbehaving server, for every request: "drip" (one byte of the answer every
        #: ``drip_s`` seconds), "bad-status" (a /status page with an unexpected line),
        #: "redirect-loop", "endless-headers" (a header line every ``drip_s`` seconds),
        #: "truncated" (a Content-Length longer than the body), "close" (the connection closed
        #: with no answer), "redirect-307-loop" (a 307 to itself: followed as a POST), or None.
        self.mode: str | None = None
        self.drip_s = 5.0
        self.stop_event = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: bytes, kind: str, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _misbehave(self) -> bool:
                mode, pause = server.mode, server.drip_s
                if mode == "close":
                    self.close_connection = True
                elif mode in ("redirect-loop", "redirect-307-loop"):
                    self.send_response(302 if mode == "redirect-loop" else 307)
                    self.send_header("Location", self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif mode in ("drip", "endless-headers", "truncated"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "1000")
                    if mode == "endless-headers":
                        while not server.stop_event.wait(pause):  # bounded by stop()
                            self.send_header("X-More", "1")
                            self.flush_headers()
                        return True
                    self.end_headers()
                    self.wfile.write(b'{"elements": [')
                    self.wfile.flush()
                    if mode == "truncated":
                        return True
                    while not server.stop_event.wait(pause):  # bounded by stop()
                        self.wfile.write(b" ")
                        self.wfile.flush()
                else:
                    return False
                return True

            def do_GET(self) -> None:
                if server.mode == "bad-status" and self.path.endswith("/status"):
                    text = (
                        "Connected as: 1\nCurrent time: 2026-01-01T00:00:00Z\nAnnounced endpoint: none\n"
                        "Rate limit: 2\nsomething unexpected here\nCurrently running queries:\n"
                    )
                    return self._send(200, text.encode(), "text/plain")
                if self._misbehave():
                    return None
                if self.path.endswith("/status"):
                    text = (
                        "Connected as: 1\nCurrent time: 2026-01-01T00:00:00Z\nAnnounced endpoint: none\n"
                        "Rate limit: 2\n2 slots available now.\nCurrently running queries:\n"
                    )
                    self._send(200, text.encode(), "text/plain")
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                query = parse_qs(self.rfile.read(length).decode()).get("data", [""])[0]
                server.queries.append(query)
                try:
                    if self._misbehave():
                        return None
                except OSError:  # the client gave up: expected
                    return None
                if server.failure and server.failure[3] in query:
                    status, body, kind, _, *headers = server.failure
                    return self._send(status, body, kind, *headers)
                body = json.dumps(server.answer(query)).encode()
                self._send(200, body, "application/json")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- query evaluation ---------------------------------------------------
    def _node_in(self, node_id: int, poly) -> bool:
        node = self.nodes.get(node_id)
        return node is not None and poly.contains(Point(node["lon"], node["lat"]))

    def _way_in(self, way_id: int, poly) -> bool:
        way = self.ways.get(way_id)
        return way is not None and any(self._node_in(n, poly) for n in way["nodes"])

    def _member_in(self, member: dict, poly) -> bool:
        if member["type"] == "node":
            return self._node_in(member["ref"], poly)
        if member["type"] == "way":
            return self._way_in(member["ref"], poly)
        return False

    def answer(self, query: str) -> dict:
        found: dict[tuple[str, int], dict] = {}
        for kind, key, value, coords in COMPONENT.findall(query):
            numbers = [float(v) for v in coords.split()]
            poly = prepared.prep(Polygon(list(zip(numbers[1::2], numbers[0::2]))))
            pool = {"node": self.nodes, "way": self.ways, "relation": self.relations}[kind]
            for element in pool.values():
                tags = element.get("tags", {})
                if key not in tags or (value and tags[key] != value):
                    continue
                inside = (
                    self._node_in(element["id"], poly)
                    if kind == "node"
                    else self._way_in(element["id"], poly)
                    if kind == "way"
                    else any(self._member_in(m, poly) for m in element["members"])
                )
                if inside:
                    self._add_down(element, found)
        elements = sorted(found.values(), key=lambda e: ({"node": 0, "way": 1, "relation": 2}[e["type"]], e["id"]))
        return {
            "version": 0.6,
            "generator": "fake Overpass for HamJi tests",
            "osm3s": {"timestamp_osm_base": self.timestamp, "copyright": "test data"},
            "elements": json.loads(json.dumps(elements)),
        }

    def _add_down(self, element: dict, found: dict) -> None:
        found[(element["type"], element["id"])] = element
        if element["type"] == "way":
            for node_id in element["nodes"]:
                found[("node", node_id)] = self.nodes[node_id]
        elif element["type"] == "relation":
            for member in element["members"]:
                pool = {"node": self.nodes, "way": self.ways, "relation": self.relations}[member["type"]]
                if member["ref"] in pool:
                    self._add_down(pool[member["ref"]], found)
