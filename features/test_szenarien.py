"""Collects every German scenario in this folder; the steps live in conftest.py."""

from pytest_bdd import scenarios

scenarios(".")
