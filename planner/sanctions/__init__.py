"""Sanction risk as sampled policy events: paths, their scenario tree (docs/sanctions.md)."""
