"""The hardware catalog: node SKUs, failure categories and part types, every number with a source."""

from planner.catalog.catalog import Catalog, Category, Part, Sku, Sourced, load_catalog

__all__ = ["Catalog", "Category", "Part", "Sku", "Sourced", "load_catalog"]
