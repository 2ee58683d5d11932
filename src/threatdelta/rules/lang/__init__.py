"""A small, safe expression language for threat rules (a superset of TMT GenerationFilters)."""
