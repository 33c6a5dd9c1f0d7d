"""Where OpenStreetMap data and the facts beside it come from.

- :mod:`~geo.sources.extracts`: local extracts, read with pyosmium;
- :mod:`~geo.sources.overpass`: live Overpass answers, through osmnx;
- :mod:`~geo.sources.fixture`: the synthetic mini-HamJi demo (never passed off as OSM);
- :mod:`~geo.sources.gazetteer`: the border crossings, with a source for every fact;
- :mod:`~geo.sources.published`: published market counts to compare OSM's with;
- :mod:`~geo.sources.population`: the 2008 census population of each region;
- :mod:`~geo.sources.clip`: ``hamji extract``, a large extract cut down to what HamJi reads.

All OSM sources return a :class:`~geo.sources.raw.RawOsm`.
"""
