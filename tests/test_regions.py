"""Province names, codes, groups and the --province selection."""

import pytest

from geo.regions import BORDER, FAR, UnknownRegionError, find_region, regions_in_group, resolve_selection


@pytest.mark.parametrize(
    "label, code",
    [
        ("KP-09", "KP-09"),
        ("north hamgyong", "KP-09"),
        ("Hamgyŏng-bukto", "KP-09"),
        ("함경북도", "KP-09"),
        ("Rasŏn", "KP-13"),
        ("Yanggang-do", "KP-10"),
        ("Hwanghae-namdo", "KP-05"),
        ("Jilin Sheng", "CN-JL"),
    ],
)
def test_find_region_accepts_codes_names_and_aliases(label, code):
    assert find_region(label).code == code


def test_unknown_province_names_the_choices():
    with pytest.raises(UnknownRegionError, match="unknown province 'Atlantis'; use one of: KP-09 North Hamgyong"):
        find_region("Atlantis")


def test_a_mistyped_province_gets_the_closest_names():
    with pytest.raises(UnknownRegionError, match=r"unknown province 'Ryangang'; did you mean Ryanggang\? use one of"):
        find_region("Ryangang")
    with pytest.raises(UnknownRegionError, match=r"did you mean South Hwanghae or North Hwanghae\?"):
        find_region("south hwanghe")


def test_rason_and_ryanggang_are_their_own_border_provinces():
    assert [r.code for r in regions_in_group(BORDER)] == ["KP-09", "KP-13", "KP-10"]
    assert [r.code for r in regions_in_group(FAR)] == ["KP-05", "KP-06", "KP-07"]


def test_selection_always_adds_jilin_and_expands_groups():
    assert [r.code for r in resolve_selection(["far"])] == ["KP-05", "KP-06", "KP-07", "CN-JL"]
    assert [r.code for r in resolve_selection(["KP-09", "Yanbian"])] == ["KP-09", "CN-JL"]
    every = resolve_selection(None)
    assert len(every) == 14 and every == resolve_selection(["all"])
