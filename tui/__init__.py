"""mahnwerk's operator terminal UI."""
