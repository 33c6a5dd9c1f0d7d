"""HamJi Explorer: how cross-border trade reaches North Korean markets, from OpenStreetMap."""

__version__ = "0.1.0"
