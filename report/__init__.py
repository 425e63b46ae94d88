"""Reports of a run for people: one self-contained HTML page with its manifest, measurements, plots and conversations."""
