"""What a run assumed, as one typed record made once at the edge and passed down.

The CLI (or a notebook caller of :mod:`geo.api`) makes a
:class:`RunAssumptions` from its flags or arguments; routing, the reach
table, scenarios and maps read its attributes. It is turned into JSON (the
routes GeoPackage's provenance) and back only in :mod:`geo.io`
(:func:`geo.io.assumptions_record`, :func:`geo.io.read_assumptions`).

Examples
--------
>>> from geo.network import load_speeds
>>> record = RunAssumptions(supply=supply_model("all-china"), speeds=load_speeds())
>>> record.supply.regions, record.speeds.source, record.penalty_h("wonjong_quanhe")
(('CN-JL', 'CN-LN'), 'built-in defaults', 2.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from geo import settings
from geo.supply import SupplyModel, supply_model

if TYPE_CHECKING:  # the routing (SciPy) is not loaded by stages that only name a record's type
    from geo.network import SpeedTable

__all__ = ["NetworkReport", "RunAssumptions", "SideReport", "supply_model"]


def _frozen(mapping: Mapping[str, float] | None) -> Mapping[str, float]:
    return MappingProxyType({str(k): float(v) for k, v in (mapping or {}).items()})


@dataclass(frozen=True)
class RunAssumptions:
    """The assumptions behind one set of routes, and so behind everything made from them.

    Attributes
    ----------
    supply
        Where goods may come from (:class:`~geo.supply.SupplyModel`).
    speeds
        Travel speeds by side and road class, with the table's source name and digest.
    penalties_h
        Hours at the border by crossing id, for the crossings given one.
    default_penalty_h
        Hours at the border of every other crossing.
    as_of
        The date (``YYYY`` or ``YYYY-MM``) the channels are taken as of, or None for the data's own date.
    people_areas
        Digest of the people-areas file that weights the people shares, or None.
    unknown_crossings
        ``closed``: crossings of unknown status (found only in OpenStreetMap,
        or a gazetteer one no source says is open now) are listed but not
        routed; ``open``: they are routed as open.
    """

    supply: SupplyModel
    speeds: SpeedTable
    penalties_h: Mapping[str, float] = field(default_factory=dict)
    default_penalty_h: float = settings.BORDER_PENALTY_H
    as_of: str | None = None
    people_areas: str | None = None
    unknown_crossings: str = "closed"

    def __post_init__(self) -> None:
        object.__setattr__(self, "penalties_h", _frozen(self.penalties_h))

    def penalty_h(self, crossing_id: str) -> float:
        """Hours at the border at ``crossing_id``."""
        return self.penalties_h.get(crossing_id, self.default_penalty_h)

    def with_changes(self, **changes: object) -> RunAssumptions:
        """A copy with some fields replaced (the record itself never changes)."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SideReport:
    """The routable network of one side of the border, and what was dropped building it."""

    nodes: int
    edges: int
    dropped_components: int = 0
    dropped_roads: int = 0
    dropped_nodes: int = 0


@dataclass(frozen=True)
class NetworkReport:
    """What routing found: both sides' networks, bridges left to crossings, regions a model lacked."""

    kp: SideReport
    cn: SideReport
    bridges_left_to_crossings: int = 0
    #: The supply model's regions that the layers do not hold (the model then equals a smaller one).
    missing_regions: tuple[str, ...] = ()

    def sides(self) -> dict[str, SideReport]:
        """Country code -> side report."""
        return {"KP": self.kp, "CN": self.cn}
