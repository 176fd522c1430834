"""The operators' terminal UI (`mahnwerk tui`), built on Textual.

Screens read through `data` and the engine's query functions and write only
through the engine's own functions (approvals, inbox events, runs).
"""
