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
    assert closed["reason"][2].startswith("no road")  # an earlier reason stays
    opened = apply_dates(frame, "2024-01-01", unknown_crossings="open")
    assert opened["reason"][:2].isna().all()
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
