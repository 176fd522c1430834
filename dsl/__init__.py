"""mahnwerk's policy language: readers for YAML and text, one frozen IR, graphs per segment."""
