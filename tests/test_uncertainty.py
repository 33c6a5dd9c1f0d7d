"""hamji uncertainty: the reweighted draws route as a full rebuild would, and the intervals behave."""

import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import geo
from geo import settings, uncertainty
from geo.cli import main
from geo.network import SPEED_CLASSES, validate_speeds
from geo.routes import compute_routes
from geo.schema import STAMPS as TABLE_STAMPS
from geo.supply import DEFAULT_SUPPLY
from geo.uncertainty import STATISTICS, UNCERTAINTY_COLUMNS, Ranges, draw_assumptions

STAMPS = ["made_from_layers", "made_from_routes", *TABLE_STAMPS]


@pytest.fixture(scope="module")
def demo():
    layers = geo.demo_layers()
    routes = geo.route_markets(layers)
    return layers, routes, geo.reach_table(routes, layers)


@pytest.fixture
def folder(demo_reach, tmp_path):
    """A writable copy of the session's demo build (layers, routes, reach)."""
    target = tmp_path / "layers"
    shutil.copytree(demo_reach, target, ignore=shutil.ignore_patterns(".hamji*", "scenarios"))
    return target


def test_a_draw_routes_as_a_full_rebuild_with_its_speeds_and_penalties(demo):
    """Reweighting edges by class gives the times compute_routes gives when the graph is built at those speeds."""
    layers, routes, _ = demo
    speeds = routes.assumptions.speeds
    net, markets = uncertainty._network(layers, routes.assumptions)
    draw = draw_assumptions(np.random.default_rng(5), speeds, net.penalty_h, Ranges(speed=1.7, channel=1))
    assert not np.allclose(draw.speeds["KP"], [speeds.speeds["KP"][c] for c in SPEED_CLASSES])
    table = {
        c: {**dict(zip(SPEED_CLASSES, draw.speeds[c].tolist())), "unpaved_factor": draw.unpaved[c]}
        for c in ("KP", "CN")
    }
    usable = routes.crossings.loc[routes.crossings["usable"], "crossing_id"]
    record = routes.assumptions.with_changes(
        speeds=validate_speeds(table, "draw"), penalties_h=dict(zip(usable, draw.penalty_h))
    )
    rebuilt = compute_routes(layers.frames, record)
    expected = rebuilt["markets"]["total_h"].to_numpy(float)
    assert np.allclose(uncertainty._hub_hours(net, draw), expected, rtol=0, atol=1e-9, equal_nan=True)
    # The draw moved the times, and not all by one factor (each class and crossing drawn on its own).
    ratio = expected / routes.markets["total_h"].to_numpy(float)
    assert ratio.std() > 0.01


def _only_ways_in(net, chosen):
    """The network with only the ways in at ``chosen`` (a slice or positions of the usable crossings)."""
    return replace(
        net,
        crossing_kp=net.crossing_kp[chosen],
        crossing_cn=net.crossing_cn[chosen],
        penalty_h=net.penalty_h[chosen],
        fixed_h=net.fixed_h[chosen],
    )


def test_on_one_route_the_median_draw_is_the_point_estimate(demo):
    """Draws lean neither slower nor faster: with one way in, the median drawn hub time is the routes' own.

    Only the one crossing's penalty is drawn (×1/2–2, log-uniform), so a market's time is its road hours r
    plus p·g, g the drawn factor, and the route cannot change: the median time is r + p·median(g). The
    sample median of 401 log-uniform draws has a standard error of ln 2 / √401 = 0.035 in ln g, so
    |median(g) - 1| < 0.1 (2.9 standard errors) and the median time lies within 0.1·p of the point
    estimate r + p. The uniform ×0.5–2 this replaced has median(g) = 1.25: 0.25·p slower, and fails here.
    """
    layers, routes, _ = demo
    net, _ = uncertainty._network(layers, routes.assumptions)
    first = slice(0, 1)  # one way in: the first usable crossing alone
    one = _only_ways_in(net, first)
    speeds, ranges = routes.assumptions.speeds, Ranges(speed=1, unpaved=1, penalty=2, channel=1)
    point = uncertainty._hub_hours(
        one, draw_assumptions(np.random.default_rng(0), speeds, one.penalty_h, Ranges(1, 1, 1, 1))
    )
    rng = np.random.default_rng(11)
    drawn = np.array(
        [uncertainty._hub_hours(one, draw_assumptions(rng, speeds, one.penalty_h, ranges)) for _ in range(401)]
    )
    reached = np.isfinite(point)
    assert reached.sum() >= 10 and one.penalty_h[0] >= 1  # markets to test, and a penalty that matters
    assert np.abs(np.median(drawn[:, reached], axis=0) - point[reached]).max() < 0.1 * one.penalty_h[0]
    # Half the draws on either side of the point estimate, as the median says, and both tails reached.
    slower = (drawn[:, reached] > point[reached]).mean()
    assert 0.45 < slower < 0.55
    factor = (drawn[:, reached][:, 0] - point[reached][0]) / one.penalty_h[0] + 1
    assert factor.min() < 0.55 and factor.max() > 1.8 and (factor >= 0.5 - 1e-9).all() and (factor <= 2 + 1e-9).all()


def test_a_ships_hours_are_drawn_around_their_stated_value(demo):
    """A sea link's voyage, dwell and wait (``fixed_h``) are drawn ×1/1.5–1.5, log-uniformly, one factor a draw.

    With the sea link as the only way in and nothing else drawn, a market's
    time is its road hours r plus the link's stated hours f times the factor g
    (the penalty p stays): t = r + p + f·g. So (t - point)/f + 1 is g itself:
    within [1/1.5, 1.5], both ends reached in 401 draws, median within 0.1 of 1
    (standard error ln 1.5 / √401 = 0.02 in ln g).
    """
    layers, routes, _ = demo
    net, _ = uncertainty._network(layers, routes.assumptions)
    sea = np.flatnonzero(net.crossing_cn < 0)[:1]  # a sea link has no Chinese road node
    assert len(sea) == 1
    one = _only_ways_in(net, sea)
    speeds = routes.assumptions.speeds
    point = uncertainty._hub_hours(
        one, draw_assumptions(np.random.default_rng(0), speeds, one.penalty_h, Ranges(1, 1, 1, 1))
    )
    rng = np.random.default_rng(4)
    ranges = Ranges(speed=1, unpaved=1, penalty=1, channel=1.5)
    drawn = np.array(
        [uncertainty._hub_hours(one, draw_assumptions(rng, speeds, one.penalty_h, ranges)) for _ in range(401)]
    )
    reached = np.flatnonzero(np.isfinite(point))
    assert len(reached) >= 5 and one.fixed_h[0] > 24  # the voyage and a day in port, at least
    factor = (drawn[:, reached[0]] - point[reached[0]]) / one.fixed_h[0] + 1
    assert (factor >= 1 / 1.5 - 1e-9).all() and (factor <= 1.5 + 1e-9).all()
    assert factor.min() < 0.7 and factor.max() > 1.45 and abs(np.median(factor) - 1) < 0.1
    # Every market reached by the ship moves by the same hours in a draw: one factor for the link.
    moved = drawn[:, reached] - point[reached]
    assert np.allclose(moved, moved[:, :1], atol=1e-9)


def test_ranges_are_stated_as_the_factors_drawn():
    assert Ranges().words().startswith("each class's speed on each side × 0.77–1.30")
    assert "penalty × 0.50–2.00, " in Ranges().words()
    assert "train or ship way in adds beyond the road × 0.67–1.50 (log-uniform" in Ranges().words()
    with pytest.raises(geo.HamjiError, match="Ranges.speed = 0.7"):
        Ranges(speed=0.7)


def test_no_spread_and_no_bootstrap_gives_the_point_estimates(demo):
    layers, routes, reach = demo
    table = geo.reach_uncertainty(layers, routes, reach, draws=5, seed=1, ranges=Ranges().narrowed(0), bootstrap=False)
    assert list(table.columns) == list(UNCERTAINTY_COLUMNS)
    with_markets = table[table["markets"] > 0]
    for stat in STATISTICS:
        assert np.allclose(with_markets[f"{stat}_p5"], with_markets[stat], atol=1e-9)
        assert np.allclose(with_markets[f"{stat}_p95"], with_markets[stat], atol=1e-9)
    # The point estimates are the reach table's own.
    by_code = reach.set_index("code")
    assert np.allclose(with_markets["hub_h_median"], by_code.loc[with_markets["code"], "hub_h_median"])
    # Provinces the demo maps no market in have no estimate at all.
    assert table.set_index("code").loc["KP-02", ["hub_h_median", "hub_h_median_p5"]].isna().all()


def test_intervals_contain_the_point_estimates_and_narrow_as_the_ranges_narrow(demo):
    layers, routes, reach = demo
    full = geo.reach_uncertainty(layers, routes, reach, draws=60, seed=3).set_index("code")
    rows = full[full["markets"] > 0]
    for stat in STATISTICS:
        assert (rows[f"{stat}_p5"] <= rows[stat] + 1e-9).all() and (rows[stat] <= rows[f"{stat}_p95"] + 1e-9).all()
    widths = []
    for width in (1.0, 0.5, 0.1):
        table = geo.reach_uncertainty(
            layers, routes, reach, draws=60, seed=3, ranges=Ranges().narrowed(width), bootstrap=False
        ).set_index("code")
        widths.append(table["hub_h_median_p95"] - table["hub_h_median_p5"])
    for code in ("group:border", "group:far", "KP", "KP-05"):
        assert widths[0][code] > widths[1][code] > widths[2][code] > 0
    # In the demo every draw keeps the border provinces' median market the nearer one.
    assert full.loc["group:border", "p_border_median_below_far"] == 1.0
    assert full["p_border_median_below_far"].notna().sum() == 2


def test_the_bootstrap_alone_widens_a_province_with_several_markets_only(demo):
    layers, routes, reach = demo
    table = geo.reach_uncertainty(layers, routes, reach, draws=40, seed=2, ranges=Ranges().narrowed(0)).set_index(
        "code"
    )
    # North Hamgyong has 8 markets: resampling them moves the median; Kangwon's one market cannot move.
    assert table.loc["KP-09", "hub_h_median_p95"] > table.loc["KP-09", "hub_h_median_p5"]
    assert table.loc["KP-07", "hub_h_median_p95"] == table.loc["KP-07", "hub_h_median_p5"]


def test_same_seed_same_file_and_the_summary_shows_the_intervals(folder, capsys):
    assert main(["uncertainty", "--layers", str(folder), "--draws", "30", "--seed", "7"]) == 0
    out, err = capsys.readouterr()
    assert "DEMO" in out and "5–95 %" in out
    assert err == ""  # no progress bar when stderr is not a terminal
    path = folder / settings.UNCERTAINTY_CSV
    first = path.read_bytes()
    assert main(["uncertainty", "--layers", str(folder), "--draws", "30", "--seed", "7", "--force"]) == 0
    assert path.read_bytes() == first
    table = pd.read_csv(path)
    assert list(table.columns) == [*UNCERTAINTY_COLUMNS, *STAMPS]
    assert table["demo"].all() and set(table["supply_model"]) == {DEFAULT_SUPPLY}
    summary = (folder / settings.REACH_MD).read_text(encoding="utf-8")
    assert "## How sure" in summary and "the border provinces' median is the lower in all 30 draws" in summary
    # The summary hamji uncertainty rewrote is the one the reach stage writes while the intervals are current.
    assert main(["reach", "--layers", str(folder), "--force"]) == 0
    assert (folder / settings.REACH_MD).read_text(encoding="utf-8") == summary
    assert main(["uncertainty", "--layers", str(folder), "--draws", "30", "--seed", "8", "--force"]) == 0
    assert path.read_bytes() != first


def test_intervals_of_other_routes_are_not_shown(folder, capsys):
    assert main(["uncertainty", "--layers", str(folder), "--draws", "10"]) == 0
    assert main(["reach", "--layers", str(folder), "--force"]) == 0
    assert "## How sure" in (folder / settings.REACH_MD).read_text(encoding="utf-8")
    # New routes: the intervals were drawn around the old ones, so the summary leaves them out.
    assert main(["routes", "--layers", str(folder), "--penalty", "wonjong_quanhe=5"]) == 0
    assert main(["reach", "--layers", str(folder)]) == 0
    assert "## How sure" not in (folder / settings.REACH_MD).read_text(encoding="utf-8")
    capsys.readouterr()


@pytest.mark.parametrize(
    "flags",
    [["--draws", "0"], ["--draws", "100001"], ["--seed", "-1"], ["--seed", str(2**64)]],
)
def test_bad_numbers_fail_in_one_line(folder, capsys, flags):
    assert main(["uncertainty", "--layers", str(folder), *flags]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("hamji: error: ") and len(err.splitlines()) == 1
    assert ("--draws" if "--draws" in flags else "--seed") in err
    assert not (folder / settings.UNCERTAINTY_CSV).exists()


def test_progress_is_reported_per_draw(demo):
    layers, routes, reach = demo
    calls = []
    geo.reach_uncertainty(layers, routes, reach, draws=3, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_index_and_comparison_map_show_the_intervals_while_current(folder, tmp_path, capsys):
    maps = tmp_path / "maps"
    assert main(["maps", "--layers", str(folder), "--maps", str(maps)]) == 0
    assert "How sure" not in (maps / "index.html").read_text(encoding="utf-8")
    assert main(["uncertainty", "--layers", str(folder), "--draws", "20", "--seed", "4"]) == 0
    sentence = uncertainty.interval_sentence(pd.read_csv(folder / settings.UNCERTAINTY_CSV))
    assert main(["maps", "--layers", str(folder), "--maps", str(maps)]) == 0  # not skipped: the file is an input
    escaped = sentence.replace("'", "&#39;").replace("%", "&#37;")
    index = (maps / "index.html").read_text(encoding="utf-8")
    assert "<h2>How sure</h2>" in index and escaped in index
    assert escaped in (maps / "comparison.html").read_text(encoding="utf-8")
    capsys.readouterr()


def test_a_progress_bar_on_a_terminal_only(folder, capsys, monkeypatch):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["uncertainty", "--layers", str(folder), "--draws", "5"]) == 0
    err = capsys.readouterr().err
    assert "uncertainty" in err and "5/5" in err
    assert main(["uncertainty", "--layers", str(folder), "--draws", "5", "--force", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_the_extract_bar_still_counts_bytes_and_objects(fixture_xml, tmp_path, capsys, monkeypatch):
    """The extract's bar and the draws' share one tqdm helper: reading an extract on a terminal still shows it."""
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    out = tmp_path / "layers"
    from geo.sources import fixture

    provinces = [arg for code in fixture.province_codes() for arg in ("--province", code)]
    assert main(["layers", "--osm", str(fixture_xml), "--out", str(out), *provinces]) == 0
    err = capsys.readouterr().err
    assert "reading extract" in err and "objects kept" in err


def test_no_far_markets_no_probability(demo):
    layers, routes, _ = demo
    kept = layers.markets[~layers.markets["province"].isin(["KP-05", "KP-06", "KP-07"])]
    border_only = replace(layers, markets=kept)
    table = geo.reach_uncertainty(border_only, geo.route_markets(border_only), draws=3, seed=0)
    assert table["p_border_median_below_far"].isna().all()
    assert uncertainty.interval_sentence(table).endswith("this build has no markets in the far provinces.")


def test_when_neither_group_is_reached_the_probability_says_why_it_is_zero(demo):
    # As of June 2021 every crossing and sea link was shut: no market is reached in any draw. "The border
    # median is the lower in none of the draws" alone would read as the far provinces winning.
    layers, _, _ = demo
    routes = geo.route_markets(layers, geo.run_assumptions(as_of="2021-06"))
    table = geo.reach_uncertainty(layers, routes, draws=5, seed=0)
    border = table.set_index("code").loc["group:border"]
    assert border["p_border_median_below_far"] == 0 and np.isinf(border["hub_h_median_p5"])
    sentence = uncertainty.interval_sentence(table)
    # No "unreachable (unreachable to unreachable)": the sentence says there is nothing to compare.
    assert "unreachable" not in sentence
    assert sentence.endswith(
        "neither group's median market is reached from a hub in any draw: there is nothing to compare."
    )
    # And each row of the table under it: not "unreachable (unreachable to unreachable)".
    assert uncertainty.interval_text(border, "hub_h_median") == "unreachable in every draw"
    assert "(unreachable to unreachable)" not in "\n".join(uncertainty.markdown_lines(table))
    from geo.maps.layers import interval_popup_rows

    rows = dict(interval_popup_rows(table, "KP-09"))
    assert rows["Border median below far"] == f"in none of the 5 draws (0%): {uncertainty.NEITHER_REACHED}"
    # Reached on the data date: the plain count.
    reached = geo.reach_uncertainty(layers, geo.route_markets(layers), draws=5, seed=0)
    assert uncertainty.interval_sentence(reached).endswith("is the lower in all 5 draws.")
