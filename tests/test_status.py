"""Crossings on a date: opening years, COVID closures, unopened bridges, OSM-only crossings."""

import pandas as pd
import pytest

from geo.errors import InputError
from geo.status import NOT_OPENED, SHUT_ON, UNKNOWN_STATUS, apply_dates, as_of_day, parse_as_of, shut_reason


@pytest.mark.parametrize(
    ("text", "day"), [("2021", "2021-01-01"), ("2021-06", "2021-06-01"), (" 2022-09 ", "2022-09-01")]
)
def test_as_of_is_the_first_day_of_the_year_or_month(text, day):
    assert parse_as_of(text) == day


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2021-13", "'2021-13': month 13 does not exist; write 01 to 12 (e.g. 2021-06)"),
        ("2021-00", "'2021-00': month 00 does not exist"),
        ("1850", "'1850': year 1850 is out of range; write 1900 to 2100"),
    ],
)
def test_a_month_or_year_that_cannot_be_is_named(text, says):
    with pytest.raises(InputError) as err:
        parse_as_of(text)
    assert str(err.value).startswith(f"as-of date {says}") and err.value.option == "as_of"


@pytest.mark.parametrize("text", ["21-06", "June 2021", "2021-06-15", "", "{{7*7}}"])
def test_a_bad_as_of_is_one_line_naming_the_form(text):
    with pytest.raises(InputError, match=r"as-of date .*: write a year or a year and month, YYYY or YYYY-MM") as err:
        parse_as_of(text)
    assert "\n" not in str(err.value) and err.value.option == "as_of"


def test_the_default_day_is_the_data_date():
    assert as_of_day(None, "2024-05-06T00:00:00Z") == "2024-05-06"
    assert as_of_day("2021-06", "2024-05-06T00:00:00Z") == "2021-06-01"


def test_rail_at_dandong_reopened_before_the_roads():
    # Yonhap: freight trains Jan 2022, paused 29 Apr to 26 Sep 2022; trucks with the border, 27 Aug 2023.
    assert shut_reason("sinuiju_dandong_rail", "2021-06-01").startswith(SHUT_ON)
    assert shut_reason("sinuiju_dandong_rail", "2022-03-01") is None
    assert shut_reason("sinuiju_dandong_rail", "2022-06-01").startswith(SHUT_ON)
    assert shut_reason("sinuiju_dandong_rail", "2022-10-01") is None
    assert shut_reason("sinuiju_dandong_road", "2022-10-01").startswith(SHUT_ON)
    assert shut_reason("sinuiju_dandong_road", "2023-09-01") is None


def test_hunchun_trucks_reopened_in_february_2023():
    assert "Nikkei" in shut_reason("wonjong_quanhe", "2023-02-01")
    assert shut_reason("wonjong_quanhe", "2023-03-01") is None
    assert shut_reason("namyang_tumen_road", "2023-03-01").startswith(SHUT_ON)


def test_a_crossing_is_not_used_before_it_opened():
    # The Ji'an-Manpo road bridge opened in April 2019 (Global Times).
    assert shut_reason("manpo_jian_road", "2018-06-01").startswith(f"{NOT_OPENED} 2018-06-01 (opened 2019")
    assert shut_reason("manpo_jian_road", "2019-06-01") is None
    # Wonjong: 1936 or 1938; the earlier year counts.
    assert shut_reason("wonjong_quanhe", "1937-01-01") is None


def test_unopened_bridges_stay_shut():
    assert shut_reason("sinuiju_dandong_new_yalu", "2026-01-01").startswith(SHUT_ON)
    assert shut_reason("namyang_tumen_new_road", "2026-01-01").startswith(SHUT_ON)


def test_a_bridge_never_opened_was_not_yet_built_before_it_was_completed():
    from geo.sources.gazetteer import gazetteer_frame
    from geo.status import dated_lines

    frame = pd.DataFrame(gazetteer_frame().drop(columns="geometry"))
    frame = frame[frame["crossing_id"].isin(["sinuiju_dandong_new_yalu", "wonjong_quanhe"])].reset_index(drop=True)
    closed = frame["crossing_id"].eq("sinuiju_dandong_new_yalu").map({True: "closed", False: None})
    frame = frame.assign(reason=closed, reason_code=closed)
    # 2010: four years before the New Yalu bridge was completed (31 October 2014): not "closed since 2014".
    before = apply_dates(frame, "2010-01-01").set_index("crossing_id")
    assert before.loc["sinuiju_dandong_new_yalu", "reason_code"] == "not_opened"
    assert before.loc["sinuiju_dandong_new_yalu", "reason"].startswith("not yet built on 2010-01-01 (completed 2014")
    assert [line for line in dated_lines(before.reset_index(), "2010-01-01") if "Yalu" in line] == [
        "New Yalu River Bridge (road): not yet built on 2010-01-01 (completed 2014-10-31, never opened)"
    ]
    after = apply_dates(frame, "2026-01-01").set_index("crossing_id")
    assert after.loc["sinuiju_dandong_new_yalu", ["reason", "reason_code"]].tolist() == ["closed", "closed"]


def test_osm_only_crossings_are_listed_but_routed_only_if_taken_as_open():
    frame = pd.DataFrame(
        {
            "crossing_id": ["osm_node_1", "wonjong_quanhe", "hyesan_changbai"],
            "status": ["unknown", "open", "open"],
            "reason": [None, None, "no road within 2,000 m on one side of the border"],
        }
    )
    closed = apply_dates(frame, "2021-06-01")
    assert closed["reason"][0].startswith(UNKNOWN_STATUS)
    assert closed["reason"][1].startswith(SHUT_ON)
    # Shut is said first, then the data's own reason: a table of 2021-06 names every crossing shut then.
    assert closed["reason"][2].startswith(SHUT_ON) and closed["reason"][2].endswith(
        "; also no road within 2,000 m on one side of the border"
    )
    assert list(closed["reason_code"]) == ["unknown_status", "shut", "shut"]
    # After the border reopened (27 August 2023), the road's absence is all that is left.
    later = apply_dates(frame, "2024-01-01")
    assert later["reason"][2] == "no road within 2,000 m on one side of the border"
    opened = apply_dates(frame, "2024-01-01", unknown_crossings="open")
    assert opened["reason"][:2].isna().all()


def test_a_crossing_of_unknown_status_taken_as_open_was_shut_in_covid_as_every_land_crossing_was():
    frame = pd.DataFrame(
        {
            "crossing_id": ["osm_node_1", "shuangmufeng_samjiyon", "scenario_bridge"],
            "status": ["unknown", "unknown", "open"],
            "reason": [None, None, None],
        }
    )
    during = apply_dates(frame, "2021-06-01", unknown_crossings="open")
    # 24 January 2020 (RFA) to 27 August 2023 (Yonhap), as for every land crossing without dates of its own.
    assert list(during["reason_code"][:2]) == ["shut", "shut"]
    assert all(r.startswith(f"{SHUT_ON} 2021-06-01: shut 2020-01-24 to 2023-08-27") for r in during["reason"][:2])
    # A scenario's new crossing is open as the scenario says.
    assert during["reason"][2] is None
    after = apply_dates(frame, "2023-08-27", unknown_crossings="open")
    assert after["reason"].isna().all()
    with pytest.raises(InputError, match="unknown crossings: 'maybe'; choose one of closed, open"):
        apply_dates(frame, "2024-01-01", unknown_crossings="maybe")


def test_shuangmufeng_a_gazetteer_crossing_of_unknown_status_is_routed_only_if_taken_as_open():
    from geo.sources.gazetteer import gazetteer_frame
    from geo.status import dated_lines

    frame = pd.DataFrame(gazetteer_frame().drop(columns="geometry")).assign(reason=None)
    closed = apply_dates(frame, "2024-01-01").set_index("crossing_id")
    row = closed.loc["shuangmufeng_samjiyon"]
    # Listed, not routed; and not said to be found only in OpenStreetMap, which it is not.
    assert row["reason_code"] == "unknown_status" and row["reason"].startswith(UNKNOWN_STATUS)
    assert "OpenStreetMap" not in row["reason"] and "no source says it is open now" in row["reason"]
    line = [x for x in dated_lines(closed.reset_index(), "2024-01-01") if x.startswith("Shuangmufeng")]
    assert line == [
        "Shuangmufeng–Samjiyon (road): status unknown (no source says it is open now; see its status "
        "source): not routed"
    ]
    # Every other gazetteer crossing has a status of its own: none is held back as unknown.
    assert list(closed.index[closed["reason_code"] == "unknown_status"]) == ["shuangmufeng_samjiyon"]
    opened = apply_dates(frame, "2024-01-01", unknown_crossings="open").set_index("crossing_id")
    assert opened.loc["shuangmufeng_samjiyon", ["reason", "reason_code"]].isna().all()
    # Taken as open, it still opened in 1983 (an official-business passage, Jilin Xinwen 2016).
    before = apply_dates(frame, "1980-01-01", unknown_crossings="open").set_index("crossing_id")
    assert before.loc["shuangmufeng_samjiyon", "reason_code"] == "not_opened"


def test_a_date_after_the_data_is_warned_of():
    from geo.console import _after_the_data

    # The demo's data is of 1 January 2026: asked of 2030, its roads cannot be of 2030.
    assert _after_the_data("2030-01-01", "2026-01-01T00:00:00Z") == [
        "warning: crossings taken as of 2030-01-01, after the OpenStreetMap data date 2026-01-01: the roads are "
        "those of the data date, and each crossing's status that of its latest source"
    ]
    assert _after_the_data("2026-01-01", "2026-01-01T00:00:00Z") == []
    assert _after_the_data("2021-06-01", "2026-01-01T00:00:00Z") == []
    assert _after_the_data("2030-01-01", None) == []  # no data date: today is the default, nothing to compare


def test_the_list_of_crossings_shut_names_each_mode_once():
    from geo.sources.gazetteer import gazetteer_frame
    from geo.status import dated_lines

    frame = pd.DataFrame(gazetteer_frame().drop(columns="geometry")).assign(reason=None)
    lines = dated_lines(apply_dates(frame, "2021-06-01"), "2021-06-01")
    # Every gazetteer crossing, once: 14 shut by COVID-19, two bridges never opened, Shuangmufeng of unknown status.
    assert len(lines) == len({line.split(":")[0] for line in lines}) == 17
    assert any(line.startswith("Manpo–Ji'an (rail): shut 2020-01-24 to 2023-08-27") for line in lines)
    assert any(line.startswith("Hoeryong–Sanhe (road): shut 2020-01-24") for line in lines)
    assert not [line for line in lines if "(rail) (rail)" in line or "(road) (road)" in line]
