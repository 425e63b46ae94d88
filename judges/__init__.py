"""LLM-as-judge classifiers and reply parsers. A reply that cannot be parsed is recorded as unparsed, never raised."""
