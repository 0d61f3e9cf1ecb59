"""The depth-pose command line and what only it runs: bags, benchmarks, speed, previews,
the paper's §7 comparison."""
