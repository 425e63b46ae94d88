"""Reports of a run for people: one self-contained HTML page (`moot report`) and a local viewer of the same page (`moot view`)."""
