"""The performance harness of issue 7: govern against named peers, measured in the same run.

``python -m benchmarks.run`` (``make bench``) generates each workload in a temporary
directory, runs govern and its peers alternately several times, and prints per workload the
medians, the ratio govern/peer, the target and the peak memory of each child process.
See docs/performance.md.
"""
