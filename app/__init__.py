"""mahnwerk: a dunning engine whose policies are readable files."""

__version__ = "0.1.0"
