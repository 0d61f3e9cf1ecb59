"""The synthetic world: bodies, postures, rendering, sensors, the paper's and the wide
generator, the demo scenes, and datasets on disk (load and split)."""
