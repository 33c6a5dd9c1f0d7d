"""Curated gazetteer of the China–DPRK border crossings of the HamJi trade.

OpenStreetMap has few ``barrier=border_control`` nodes in North Korea and
no facts about a crossing's history, so the crossings layer merges what OSM
has with this table. Every fact carries its source next to it.

Coordinates. Where a published coordinate was found (CSIS Beyond Parallel,
Wikipedia) it is used. For the Tumen crossings without one, and for
Shuangmufeng–Samjiyon, the one crossing of the land border by Paektu, the
point is *derived*: the nearest point of the Natural Earth 10m China–DPRK
boundary line (public domain, v4.0) to the GeoNames position (CC-BY) of the
named border town; the Ji'an road bridge, known only to be upstream of the
rail bridge, sits at the rail bridge. ``coord_precision_m`` says how far off a
point may be (an OSM bridge or border post within it takes its place); the
tests check every point against the real border line and province.

Status is ``open`` or ``closed`` as of its source, or ``unknown`` where no
source says whether it can be used now (Shuangmufeng, a temporary port opened
by approvals for limited periods): such a crossing is listed, and routed only
if unknown crossings are taken as open (:mod:`geo.status`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from geo import settings

if TYPE_CHECKING:
    import geopandas as gpd

SRC_CSIS_WONJONG = (
    "CSIS Beyond Parallel, 'Increase in Sino-North Korean Trade at Wonjong-ni-Quanhe Border "
    "Crossing' (https://beyondparallel.csis.org/increase-in-sino-north-korean-trade-at-wonjong-ni-quanhe-border-crossing/)"
)
SRC_WIKI_TUMEN_RIVER_BRIDGE = "Wikipedia, 'Tumen River Bridge' (https://en.wikipedia.org/wiki/Tumen_River_Bridge)"
SRC_CSIS_NAMYANG = (
    "CSIS Beyond Parallel, 'New China-North Korea Tumen Road Bridge Nears Completion' (2019) "
    "(https://beyondparallel.csis.org/new-china-north-korea-tumen-road-bridge-nears-completion/)"
)
SRC_WIKI_TUMEN_BORDER_BRIDGE = "Wikipedia, 'Tumen Border Bridge' (https://en.wikipedia.org/wiki/Tumen_Border_Bridge)"
SRC_KBS_NAMYANG_2020 = (
    "KBS News, 2020-08-24, new four-lane Namyang–Tumen bridge completed, not yet open "
    "(http://news.kbs.co.kr/news/view.do?ncd=4524041)"
)
SRC_DRAGON_KAISHANTUN = (
    "China Dragon Tours, 'Kaishantun Border Port in Longjing, Jilin' "
    "(https://chinadragontours.com/kaishantun-border-port-in-jilin.html)"
)
SRC_PEOPLE_SANHE = (
    "People's Daily (finance.people.com.cn), 2015-08-12, Sanhe port: bridge of 1941 renovated with "
    "Chinese funds in 2012, faces Hoeryong (http://finance.people.com.cn/BIG5/n/2015/0812/c395539-27451226.html)"
)
SRC_DRAGON_NANPING = (
    "China Dragon Tours, 'Nanping Border Port in Helong, Jilin' "
    "(https://chinadragontours.com/nanping-border-port-in-jilin.html)"
)
SRC_DRAGON_SHATUOZI = (
    "China Dragon Tours, 'Shatuozi Border Port in Hunchun, Jilin' "
    "(https://chinadragontours.com/shatuozi-border-port-in-jilin.html)"
)
SRC_DEWIKI_TUMEN_NAMYANG = (
    "German Wikipedia, 'Tumen-Namyang-Brücke' (https://de.wikipedia.org/wiki/Tumen-Namyang-Br%C3%BCcke): new "
    "road bridge 2017-2021 beside the 1941 bridge, 42°57'16\"N 129°51'1\"E"
)
SRC_WIKI_JIAN_RAIL = (
    'Wikipedia, "Ji\'an Yalu River Border Railway Bridge" '
    "(https://en.wikipedia.org/wiki/Ji%27an_Yalu_River_Border_Railway_Bridge): single-track rail bridge "
    "Ji'an-Manpo, built 1937 to 31 July 1939, 41°9'21\"N 126°16'20\"E; a new road bridge upstream opened April 2019"
)
SRC_GT_JIAN_ROAD = (
    "Global Times, 2019-04, new Ji'an road port and cross-border bridge to Manpo opened to traffic, via "
    "NovostiVL (https://novostivl.com/post/71367/)"
)
SRC_WIKI_LINJIANG = (
    "Wikipedia, 'Linjiang Yalu River Bridge' (https://en.wikipedia.org/wiki/Linjiang_Yalu_River_Bridge): "
    "Linjiang (Jilin) to Chunggang county (Chagang), built 1938, Linjiang Border Post, 41°47'33\"N 126°53'47\"E"
)
SRC_WIKI_FRIENDSHIP = (
    "Wikipedia, 'Sino-Korean Friendship Bridge' (https://en.wikipedia.org/wiki/Sino-Korean_Friendship_Bridge): "
    "Dandong (Liaoning) to Sinuiju (North Pyongan), road and rail, built 1937-1943, 40°6'54\"N 124°23'33\"E"
)
SRC_GT_DANDONG = (
    "Global Times, 2013-04-22, 'A glimpse into the Sino-NK border' (https://www.globaltimes.cn/content/776695.shtml): "
    "about 70 percent of Sino-North Korean trade passes through Dandong; trucks over 20 t not permitted on the bridge"
)
SRC_CABLE_HELONG = (
    "US Consulate Shenyang, cable 07SHENYANG145, July 2007, via WikiLeaks "
    "(https://theworldtomorrow.wikileaks.org/plusd/cables/07SHENYANG145.html): Helong administers two land ports "
    "to North Korea, Nanping and Chongshan's Guchengli, across the Tumen River from Samjang"
)
SRC_CABLE_CHONGSHAN = (
    "US Consulate Shenyang, cable 07SHENYANG126, June 2007, via WikiLeaks "
    "(https://theworldtomorrow.wikileaks.org/plusd/cables/07SHENYANG126.html): a visit to Chongshan, which abuts "
    "Samjang, among the land ports of the border"
)
SRC_WOF_SAMJANG = (
    "Who's On First (CC-BY), locality 'Samjang-nodongjagu' 삼장노동자구 (wof:id 1242744447, position from GeoNames "
    "129.00227E 42.08652N) in Taehongdan county, Ryanggang"
)
SRC_WIKI_CHANGBAI = (
    "Wikipedia, 'Changbai–Hyesan International Bridge' "
    "(https://en.wikipedia.org/wiki/Changbai%E2%80%93Hyesan_International_Bridge)"
)


# Shuangmufeng (双目峰, 쌍목봉), Antu county, Yanbian, to Sinmusong, Samjiyon county, Ryanggang: the only
# crossing of the land border by Paektu (every other one crosses the Yalu or the Tumen).
SRC_JLXW_SHUANGMUFENG_2016 = (
    "Jilin Xinwen (Korean edition), 2016-10-13, '안도현 륙로통로로 조선관광길 열렸다' "
    "(http://jlcxwb.com.cn/dby/content/2016-10/13/content_179009.htm): the Shuangmufeng port (쌍목봉통상구), a "
    "temporary port (림시통상구) 23 km from the Changbaishan north gate, 20 km from the main peak and Tianchi, "
    "35 km from Samjiyon county; set up June 1983 as an official-business passage (공무통도), temporary cargo "
    "passage approved by Jilin province March 1990; the only overland (not river) passage of the China-DPRK "
    "border; first tourist trip 4-5 October 2016"
)
SRC_YBRB_SHUANGMUFENG_2018 = (
    "Yanbian Ribao via krcnr.cn, 2018-07-11 (http://www.krcnr.cn/xw/cxzfs/201807/t20180711_1258873.html): "
    "the Shuangmufeng (temporary) port (쌍목봉(림시)통상구) opened temporarily 1 June to 31 December 2018 with the "
    "National Port Office's agreement; first tour group to Samjiyon 5 July 2018"
)
SRC_KBS_SHUANGMUFENG = (
    "KBS News, reporter 장한식 (https://mn.kbs.co.kr/news/mobile/view/view.do?ncd=2756871): of the 1,370 km border "
    "the only link by land rather than a bridge; '안도현과 북한 삼지연군 신무성 간의 쌍목봉통상구는 2009년부터 "
    "정식세관' (formal customs since 2009, still quiet)"
)
SRC_KBS_SSANGDUBONG_2023 = (
    "KBS via Daum, 2023-09-16 (https://v.daum.net/v/20230916211541102): the Chinese Shuangmufeng port faces the "
    "North Korean Ssangdubong customs (쌍두봉 세관), Tianchi 15 km to the west; a new 14 ha North Korean facility "
    "since March 2023"
)
SRC_JLNTV_CHANGBAISHAN_CUSTOMS_2020 = (
    "jlntv.cn, 2020-08-22, citing Xinhua: Changbaishan Customs opened 17 August 2020, with jurisdiction over the "
    "Shuangmufeng port"
)
SRC_YBU_SHUANGMUFENG_2021 = (
    "Yanbian University Center for DPRK and ROK Studies, 2021-06-25 (https://cnsk.ybu.edu.cn/info/1032/1963.htm): "
    "the port's construction (joint inspection building) still being planned"
)
SRC_WOF_SINMUSONG = (
    "Who's On First (CC-BY), locality 'Sinmusong-nodongjagu' 신무성로동자구 (wof:id 1192989581, position from "
    "GeoNames 128.31561E 41.96922N) in Ryanggang"
)


SRC_DEWIKI_TUMEN_RAIL = (
    "German Wikipedia, 'Tumen-Eisenbahnbrücke' (https://de.wikipedia.org/wiki/Tumen-Eisenbahnbr%C3%BCcke): "
    "single-track rail bridge Tumen-Namyang built 1932, 432 m, 42°56'56\"N 129°50'58\"E; the road bridge "
    "600 m downstream"
)
SRC_MEIPIAN_QUANHE = (
    "Meipian travel report 'Hunchun and Tumen' (https://www.meipian.cn/5dqvzf27), quoting the sign at the Quanhe "
    "border station: the old bridge (Qingxing bridge) first built 1936; the new Quanhe-Wonjong road bridge 30 m "
    "upstream built and in use 2016"
)
SRC_DONGA_NEW_YALU = (
    "Dong-A Ilbo, 2020-05-04, 'New Yalu River Bridge gears up to open six years after its construction' "
    "(http://www.donga.com/en/article/all/20200504/2054087/1/"
    "New-Yalu-River-Bridge-gears-up-to-open-six-years-after-its-construction): "
    "the six-lane 3 km bridge Dandong-Sinuiju was completed in 2014 and has not opened"
)
SRC_DAILYNK_NEW_YALU = (
    "Daily NK, 2014-11, 'Opening of New NK-China Bridge Delayed Indefinitely' "
    "(http://www.dailynk.com/english/read.php?num=12499&cataId=nk00100), citing Global Times 2014-10-31: no "
    "access roads on the North Korean side, the opening on hold"
)
SRC_WIKI_NEW_YALU = (
    "Wikipedia, 'New Yalu River Bridge' (https://en.wikipedia.org/wiki/New_Yalu_River_Bridge): road bridge "
    "Dandong-Sinuiju, 3 km with its approaches, 40°2'8\"N 124°22'10\"E; construction began October 2011; "
    "North Korea has built no road to its end"
)
# COVID closures and reopenings, per mode (where sources disagree the others are named in the same text).
SRC_COVID_CLOSED = (
    "RFA, 2020-01-29, 'North Korea Cuts Off Trade With China on Fears of Coronavirus' "
    "(https://rfa.org/english/news/korea/nk-trade-china-coronavirus-01292020101848.html): trade with China halted "
    "from Friday 24 January 2020; Yonhap, 2020-01-31 (https://m-en.yna.co.kr/view/AEN20200131007500325): all "
    "train routes suspended as of 31 January 2020. Disagreeing: Kyodo (2023-01) dates the stop of land transport "
    "to September 2020, KBS (2023-02) the de-facto stop of truck, ship and rail freight to October 2020"
)
SRC_RAIL_REOPENED_2022_01 = (
    "Yonhap, 2022-01-16, 'N. Korean cargo train arrives in Chinese city of Dandong' "
    "(https://m-en.yna.co.kr/view/AEN20220116001300325): first freight train Sinuiju-Dandong since the closure. "
    "Disagreeing: RFA, 2021-11-08 (https://rfa.org/english/news/korea/virus-11082021185243.html) reports rail "
    "freight resumed on 1 November 2021 and halted again eight days later"
)
SRC_RAIL_2022_PAUSE = (
    "Yonhap, 2022-09-26, 'N. Korea-China cargo train operation seems to have resumed' "
    "(https://m-en.yna.co.kr/view/AEN20220926004200325): Dandong-Sinuiju freight trains suspended from "
    "29 April 2022 (Dandong lockdown), seen crossing again on 26 September 2022"
)
SRC_TRUCKS_HUNCHUN_2023 = (
    "Nikkei Asia, 2023-02-16, 'North Korea and China reopen key trucking corridor after 2-year halt' "
    "(https://asia.nikkei.com/Spotlight/N-Korea-at-crossroads/"
    "North-Korea-and-China-reopen-key-trucking-corridor-after-2-year-halt): "
    "trucks Hunchun-Rason resumed. Disagreeing: Kyodo, 2023-01 "
    "(https://english.kyodonews.net/news/2023/01/"
    "5e914baac95b-china-prepares-for-restart-of-vehicle-transport-services-to-n-korea.html): "
    "non-regular trucks to Wonjong-ri appear to have resumed late in 2022"
)
SRC_BORDER_REOPENED_2023_08 = (
    "Yonhap, 2023-08-28, 'N. Korean workers return home from China by road for 1st time since pandemic' "
    "(https://en.yna.co.kr/view/AEN20230828008100325): North Korea officially reopened its borders on "
    "27 August 2023, the first road crossing Dandong-Sinuiju since January 2020. No crossing-by-crossing date of "
    "the trucks' return was found; this date is taken for every land crossing without one"
)
SRC_UPI_DALIAN_NAMPO = (
    "UPI, 2021-06-29, 'Shipping routes between China and North Korea are reopening' "
    "(https://www.upi.com/Top_News/World-News/2021/06/29/nkorea-North-Korea-China-Dalian-Nampo-trade/9271624986773/): "
    "the Dalian-Nampo route, blocked in early 2020, resumed regular shipping on Monday 28 June 2021; North Korean "
    "ships seen at Longkou, Dalian and Shidao earlier in 2021 (MarineTraffic)"
)
SRC_XINHUA_LONGKOU_NAMPO = (
    "Xinhua, 2015-09-25, 'Bulk cargo and container shipping route links China, DPRK' "
    "(http://en.chinagate.cn/2015-09/25/content_36682536.htm): the Longkou-Nampo route, the first scheduled "
    "bulk and container line between the two countries, in operation; seven ships, one circuit every ten days"
)


def _derived(town: str, lat: float, lon: float) -> str:
    return (
        "derived: nearest point of the Natural Earth 10m China–DPRK boundary (public domain, v4.0) "
        f"to GeoNames '{town}' ({lat}, {lon})"
    )


@dataclass(frozen=True)
class Period:
    """A time a crossing (or sea link) could not be used, with its source.

    ``start`` and ``end`` are ISO dates (``YYYY-MM-DD``); the crossing is shut
    from ``start`` up to the day before ``end``, and ``end`` ``None`` means not
    reopened by the latest source.
    """

    start: str
    end: str | None
    why: str
    source: str

    def covers(self, day: str) -> bool:
        """Whether the crossing was shut on ``day`` (an ISO date)."""
        return self.start <= day and (self.end is None or day < self.end)

    def text(self) -> str:
        """The period as a reader sees it: ``shut 2020-01-24 to 2023-08-27 (COVID): source``."""
        until = f"to {self.end}" if self.end else "with no reopening found"
        return f"shut {self.start} {until} ({self.why}): {self.source}"


#: COVID-19: every land crossing shut from January 2020. Rail (Dandong-Sinuiju,
#: the only line with reported dates) reopened January 2022, paused April to
#: September 2022; trucks at Hunchun-Rason February 2023; the border as a whole
#: (every other crossing, by rail or road) 27 August 2023.
COVID_RAIL_DANDONG = (
    Period(
        "2020-01-24", "2022-01-16", "COVID-19 closure", SRC_COVID_CLOSED + "; reopened: " + SRC_RAIL_REOPENED_2022_01
    ),
    Period("2022-04-29", "2022-09-26", "COVID-19, Dandong lockdown", SRC_RAIL_2022_PAUSE),
)
COVID_TRUCKS_HUNCHUN = (
    Period("2020-01-24", "2023-02-16", "COVID-19 closure", SRC_COVID_CLOSED + "; reopened: " + SRC_TRUCKS_HUNCHUN_2023),
)
COVID_LAND = (
    Period(
        "2020-01-24", "2023-08-27", "COVID-19 closure", SRC_COVID_CLOSED + "; reopened: " + SRC_BORDER_REOPENED_2023_08
    ),
)


@dataclass(frozen=True)
class Crossing:
    """One border crossing, with the source of each fact."""

    crossing_id: str
    name_en: str
    name_ko: str
    name_zh: str
    kp_town: str
    cn_town: str
    mode: str  # "road" or "rail"
    status: str  # "open" or "closed" (as of the status source), or "unknown" (no source says which)
    status_source: str
    year_opened: int | None
    year_opened_source: str
    year_rebuilt: int | None
    year_rebuilt_source: str
    lat: float
    lon: float
    coord_source: str
    coord_precision_m: int
    province: str  # ISO 3166-2 code of the North Korean side
    province_source: str
    cn_prefecture: str
    facts_source: str
    #: Times it could not be used (COVID closures; a bridge built but not opened).
    periods: tuple[Period, ...] = ()
    #: A second opening year where sources disagree (both are kept).
    year_opened_alt: int | None = None
    year_opened_alt_source: str = ""


CROSSINGS: tuple[Crossing, ...] = (
    Crossing(
        "wonjong_quanhe",
        "Wonjong–Quanhe",
        "원정–권하",
        "元汀–圈河",
        "Wonjong-ri",
        "Quanhe (Hunchun)",
        "road",
        "open",
        SRC_CSIS_WONJONG,
        1938,
        SRC_WIKI_TUMEN_RIVER_BRIDGE + ": original bridge built 1938",
        2016,
        SRC_WIKI_TUMEN_RIVER_BRIDGE + ": new 638 m bridge, opening ceremony 30 September 2016",
        42.568379,
        130.523456,
        SRC_CSIS_WONJONG,
        200,
        "KP-13",
        SRC_WIKI_TUMEN_RIVER_BRIDGE + ": Wonjong in Rason",
        "Yanbian",
        SRC_WIKI_TUMEN_RIVER_BRIDGE,
        periods=COVID_TRUCKS_HUNCHUN,
        year_opened_alt=1936,
        year_opened_alt_source=SRC_MEIPIAN_QUANHE,
    ),
    Crossing(
        "namyang_tumen_road",
        "Namyang–Tumen (road)",
        "남양–도문",
        "南阳–图们",
        "Namyang (Onsong county)",
        "Tumen",
        "road",
        "open",
        SRC_CSIS_NAMYANG + "; " + SRC_KBS_NAMYANG_2020,
        1941,
        SRC_WIKI_TUMEN_BORDER_BRIDGE + ": built 1941, 515 m",
        None,
        "the new road bridge beside it is a crossing of its own (namyang_tumen_new_road), not open",
        42.954444,
        129.850278,
        SRC_DEWIKI_TUMEN_NAMYANG + " (the road bridge, ~600 m NE of the rail bridge as " + SRC_CSIS_NAMYANG + ")",
        150,
        "KP-09",
        SRC_CSIS_NAMYANG + ": Namyang-Tumen crossing in North Hamgyong Province",
        "Yanbian",
        SRC_CSIS_NAMYANG,
        periods=COVID_LAND,
    ),
    Crossing(
        "namyang_tumen_rail",
        "Namyang–Tumen (rail)",
        "남양–도문 철교",
        "南阳–图们铁路桥",
        "Namyang (Onsong county)",
        "Tumen",
        "rail",
        "open",
        SRC_CSIS_NAMYANG,
        1932,
        SRC_DEWIKI_TUMEN_RAIL,
        None,
        "",
        42.948889,
        129.849444,
        SRC_DEWIKI_TUMEN_RAIL,
        300,
        "KP-09",
        SRC_CSIS_NAMYANG,
        "Yanbian",
        SRC_CSIS_NAMYANG,
        periods=COVID_LAND,
    ),
    Crossing(
        "sambong_kaishantun",
        "Sambong–Kaishantun",
        "삼봉–개산툰",
        "三峰–开山屯",
        "Sambong (Onsong county)",
        "Kaishantun (Longjing)",
        "road",
        "open",
        SRC_DRAGON_KAISHANTUN + " (2023 inspection: in good condition)",
        1933,
        SRC_DRAGON_KAISHANTUN + ": road-rail bridge built 1933; rail use suspended since 1993",
        None,
        "",
        42.7025,
        129.7587,
        _derived("Kaishantun", 42.70177, 129.75738),
        2_000,
        "KP-09",
        SRC_DRAGON_KAISHANTUN + ": Samphung port, North Hamgyong",
        "Yanbian",
        SRC_DRAGON_KAISHANTUN,
        periods=COVID_LAND,
    ),
    Crossing(
        "hoeryong_sanhe",
        "Hoeryong–Sanhe",
        "회령–삼합",
        "会宁–三合",
        "Hoeryong",
        "Sanhe (Longjing)",
        "road",
        "open",
        SRC_PEOPLE_SANHE,
        1941,
        SRC_PEOPLE_SANHE,
        2012,
        SRC_PEOPLE_SANHE,
        42.4759,
        129.7289,
        _derived("Sanhe", 42.47532, 129.73585),
        2_000,
        "KP-09",
        SRC_PEOPLE_SANHE + ": faces Hoeryong, North Hamgyong",
        "Yanbian",
        SRC_PEOPLE_SANHE,
        periods=COVID_LAND,
    ),
    Crossing(
        "chilsong_nanping",
        "Musan (Chilsong)–Nanping",
        "무산 칠성–남평",
        "七星–南坪",
        "Chilsong-ri (Musan county)",
        "Nanping (Helong)",
        "road",
        "open",
        SRC_DRAGON_NANPING,
        1951,
        SRC_DRAGON_NANPING + ": port set up 1929, opened to international trade 1951",
        None,
        "",
        42.2633,
        129.2040,
        _derived("Nanping", 42.26292, 129.20444),
        2_000,
        "KP-09",
        SRC_DRAGON_NANPING + ": Musan county, North Hamgyong",
        "Yanbian",
        SRC_DRAGON_NANPING,
        periods=COVID_LAND,
    ),
    Crossing(
        "saebyol_shatuozi",
        "Saebyol–Shatuozi",
        "새별–사타자",
        "赛别尔–沙坨子",
        "Saebyol (formerly Kyongwon)",
        "Shatuozi (Hunchun)",
        "road",
        "open",
        SRC_DRAGON_SHATUOZI + " (appointment-based clearance since 2023)",
        1936,
        SRC_DRAGON_SHATUOZI + ": first bridge 1936; goods since 1985",
        2012,
        SRC_DRAGON_SHATUOZI + ": modernised 2012",
        42.8052,
        130.2461,
        _derived("Kyongwon", 42.81361, 130.15278)
        + "; consistent with '12 km southwest of Hunchun' ("
        + SRC_DRAGON_SHATUOZI
        + ")",
        3_000,
        "KP-09",
        SRC_DRAGON_SHATUOZI + ": faces Kyongwon (Saebyol) county",
        "Yanbian",
        SRC_DRAGON_SHATUOZI,
        periods=COVID_LAND,
    ),
    Crossing(
        "hyesan_changbai",
        "Hyesan–Changbai",
        "혜산–장백",
        "惠山–长白",
        "Hyesan",
        "Changbai",
        "road",
        "open",
        SRC_WIKI_CHANGBAI,
        1936,
        SRC_WIKI_CHANGBAI + ": first built 1936",
        1985,
        SRC_WIKI_CHANGBAI + ": renewed 1985, 148 m",
        41.4069,
        128.1750,
        SRC_WIKI_CHANGBAI,
        1_000,
        "KP-10",
        SRC_WIKI_CHANGBAI + ": Hyesan City of Ryanggang Province",
        "Baishan",
        SRC_WIKI_CHANGBAI,
        periods=COVID_LAND,
    ),
    Crossing(
        "manpo_jian_rail",
        "Manpo–Ji'an (rail)",
        "만포–집안 철교",
        "满浦–集安铁路桥",
        "Manpo",
        "Ji'an",
        "rail",
        "open",
        SRC_WIKI_JIAN_RAIL,
        1939,
        SRC_WIKI_JIAN_RAIL,
        None,
        "",
        41.155833,
        126.272222,
        SRC_WIKI_JIAN_RAIL,
        300,
        "KP-04",
        SRC_WIKI_JIAN_RAIL + ": Manpo in Chagang Province",
        "Tonghua",
        SRC_WIKI_JIAN_RAIL,
        periods=COVID_LAND,
    ),
    Crossing(
        "manpo_jian_road",
        "Manpo–Ji'an (road)",
        "만포–집안",
        "满浦–集安",
        "Manpo",
        "Ji'an",
        "road",
        "open",
        SRC_GT_JIAN_ROAD,
        2019,
        SRC_GT_JIAN_ROAD + "; " + SRC_WIKI_JIAN_RAIL,
        None,
        "",
        41.155833,
        126.272222,
        "no published position found: placed at the rail bridge (" + SRC_WIKI_JIAN_RAIL + "), the road bridge "
        "being upstream of it; an OSM bridge within the precision takes its place",
        3_000,
        "KP-04",
        SRC_WIKI_JIAN_RAIL + ": Manpo in Chagang Province",
        "Tonghua",
        SRC_GT_JIAN_ROAD,
        periods=COVID_LAND,
    ),
    Crossing(
        "sinuiju_dandong_road",
        "Sinuiju–Dandong (road)",
        "신의주–단동",
        "新义州–丹东",
        "Sinuiju",
        "Dandong",
        "road",
        "open",
        SRC_WIKI_FRIENDSHIP + "; " + SRC_GT_DANDONG,
        1943,
        SRC_WIKI_FRIENDSHIP,
        None,
        "",
        40.115,
        124.3925,
        SRC_WIKI_FRIENDSHIP,
        300,
        "KP-03",
        SRC_WIKI_FRIENDSHIP + ": Sinuiju, North Pyongan",
        "Dandong",
        SRC_WIKI_FRIENDSHIP,
        periods=COVID_LAND,
    ),
    Crossing(
        "sinuiju_dandong_rail",
        "Sinuiju–Dandong (rail)",
        "신의주–단동 철교",
        "新义州–丹东铁路",
        "Sinuiju",
        "Dandong",
        "rail",
        "open",
        SRC_WIKI_FRIENDSHIP,
        1943,
        SRC_WIKI_FRIENDSHIP,
        None,
        "",
        40.115,
        124.3925,
        SRC_WIKI_FRIENDSHIP + " (one bridge carries the road and the single track)",
        300,
        "KP-03",
        SRC_WIKI_FRIENDSHIP + ": Sinuiju, North Pyongan",
        "Dandong",
        SRC_WIKI_FRIENDSHIP,
        periods=COVID_RAIL_DANDONG,
    ),
    Crossing(
        "junggang_linjiang",
        "Junggang–Linjiang",
        "중강–림강",
        "中江–临江",
        "Junggang (Chunggang county)",
        "Linjiang",
        "road",
        "open",
        SRC_WIKI_LINJIANG + " (a border post at the bridge; no more recent status found)",
        1938,
        SRC_WIKI_LINJIANG,
        None,
        "",
        41.7925,
        126.896389,
        SRC_WIKI_LINJIANG,
        500,
        "KP-04",
        SRC_WIKI_LINJIANG + ": Chunggang county, Chagang Province",
        "Baishan",
        SRC_WIKI_LINJIANG,
        periods=COVID_LAND,
    ),
    Crossing(
        "samjang_guchengli",
        "Samjang–Guchengli",
        "삼장–고성리",
        "三长–古城里",
        "Samjang (Taehongdan county)",
        "Guchengli (Chongshan, Helong)",
        "road",
        "open",
        SRC_CABLE_HELONG + " (open in 2007; no more recent status found)",
        None,
        "no published year found",
        None,
        "",
        42.0943,
        129.0002,
        "derived: nearest point of the Natural Earth 10m China–DPRK boundary (public domain, v4.0) to the midpoint "
        "of GeoNames 'Chongshan' (42.09339, 128.99946) and 'Samjang-nodongjagu' (42.08652, 129.00227), which face "
        "each other 800 m apart across the river (" + SRC_CABLE_HELONG + ")",
        2_000,
        "KP-10",
        SRC_WOF_SAMJANG,
        "Yanbian",
        SRC_CABLE_HELONG + "; " + SRC_CABLE_CHONGSHAN + "; mode: the cable calls it a land port, taken as road",
        periods=COVID_LAND,
    ),
    Crossing(
        "shuangmufeng_samjiyon",
        "Shuangmufeng–Samjiyon",
        "쌍목봉–삼지연",
        "双目峰–三池渊",
        "Sinmusong (Samjiyon)",
        "Shuangmufeng (Antu)",
        "road",
        # A temporary port opened by approvals for limited periods, mostly to officials and tourists (2016, 2018);
        # formal customs since 2009 but quiet; no source says it is open for goods now.
        "unknown",
        SRC_JLXW_SHUANGMUFENG_2016
        + "; "
        + SRC_YBRB_SHUANGMUFENG_2018
        + "; "
        + SRC_KBS_SHUANGMUFENG
        + "; "
        + SRC_KBS_SSANGDUBONG_2023
        + " (no source says it is open for goods now)",
        1983,
        SRC_JLXW_SHUANGMUFENG_2016 + " (official-business passage from 1983; cargo approved 1990)",
        None,
        "",
        42.029087,
        128.322365,
        _derived("Sinmusong-nodongjagu", 41.96922, 128.31561)
        + ", 6.7 km from it and 25 km in a straight line from GeoNames 'Samjiyon-up' (41.80356, 128.31886); "
        + "no published position found; consistent with '20 km from the main peak and Tianchi' and '35 km from "
        + "Samjiyon county' by road: "
        + SRC_JLXW_SHUANGMUFENG_2016
        + "; consistent with 'Tianchi 15 km to the west': "
        + SRC_KBS_SSANGDUBONG_2023,
        # 8 km: the point is 6.7 km from Sinmusong, the North Korean end KBS names, and the sources put the port
        # 15 or 20 km from Tianchi, 5 km apart; an OSM border post within 8 km takes its place.
        8_000,
        "KP-10",
        SRC_KBS_SHUANGMUFENG + ": Sinmusong in Samjiyon county; " + SRC_WOF_SINMUSONG,
        "Yanbian",
        SRC_JLXW_SHUANGMUFENG_2016
        + "; "
        + SRC_KBS_SHUANGMUFENG
        + "; "
        + SRC_YBRB_SHUANGMUFENG_2018
        + "; "
        + SRC_KBS_SSANGDUBONG_2023
        + "; "
        + SRC_YBU_SHUANGMUFENG_2021
        + "; "
        + SRC_JLNTV_CHANGBAISHAN_CUSTOMS_2020
        + "; mode: an overland road passage, taken as road",
        # Every land crossing shut in COVID-19; taken as open, it reopened with the border (no date of its own).
        periods=COVID_LAND,
    ),
    Crossing(
        "namyang_tumen_new_road",
        "Namyang–Tumen (new road bridge)",
        "남양–도문 새 다리",
        "图们国境大桥",
        "Namyang (Onsong county)",
        "Tumen",
        "road",
        "closed",
        SRC_KBS_NAMYANG_2020 + "; " + SRC_DEWIKI_TUMEN_NAMYANG + "; no report of its opening found",
        None,
        "not opened: completed 2020 (" + SRC_KBS_NAMYANG_2020 + ") or 2021 (" + SRC_DEWIKI_TUMEN_NAMYANG + ")",
        None,
        "",
        42.954444,
        129.850278,
        SRC_DEWIKI_TUMEN_NAMYANG,
        150,
        "KP-09",
        SRC_CSIS_NAMYANG + ": Namyang-Tumen crossing in North Hamgyong Province",
        "Yanbian",
        SRC_CSIS_NAMYANG + "; " + SRC_DEWIKI_TUMEN_NAMYANG,
        periods=(
            Period("2020-08-24", None, "completed, not opened", SRC_KBS_NAMYANG_2020 + "; " + SRC_DEWIKI_TUMEN_NAMYANG),
        ),
    ),
    Crossing(
        "sinuiju_dandong_new_yalu",
        "New Yalu River Bridge",
        "신압록강대교",
        "新鸭绿江大桥",
        "Sinuiju",
        "Dandong (New District)",
        "road",
        "closed",
        SRC_DONGA_NEW_YALU + "; " + SRC_DAILYNK_NEW_YALU,
        None,
        "not opened: completed 2014 (" + SRC_DONGA_NEW_YALU + ")",
        None,
        "",
        40.035556,
        124.369444,
        SRC_WIKI_NEW_YALU,
        1_500,
        "KP-03",
        SRC_DONGA_NEW_YALU + ": connects Dandong and Sinuiju (North Pyongan)",
        "Dandong",
        SRC_DONGA_NEW_YALU,
        periods=(
            Period("2014-10-31", None, "completed, never opened", SRC_DAILYNK_NEW_YALU + "; " + SRC_DONGA_NEW_YALU),
        ),
    ),
)


def gazetteer_frame() -> gpd.GeoDataFrame:
    """The gazetteer as a GeoDataFrame in :data:`settings.STORE_CRS`."""
    import geopandas as gpd  # here, not above: the command checks --penalty against CROSSINGS before it loads
    from shapely.geometry import Point

    rows = [{**asdict(c), "periods": periods_text(c.periods)} for c in CROSSINGS]
    geometry = [Point(c.lon, c.lat) for c in CROSSINGS]
    return gpd.GeoDataFrame(rows, geometry=geometry, crs=settings.STORE_CRS)


def periods_text(periods: tuple[Period, ...]) -> str | None:
    """The periods as the crossings layer stores them: one readable text, ``None`` if there are none."""
    return "; ".join(p.text() for p in periods) or None


def find_crossing(crossing_id: str) -> Crossing:
    """Return the gazetteer crossing with this id, or raise a one-line error."""
    for crossing in CROSSINGS:
        if crossing.crossing_id == crossing_id:
            return crossing
    known = ", ".join(c.crossing_id for c in CROSSINGS)
    raise KeyError(f"unknown crossing {crossing_id!r}; known crossings: {known}")
