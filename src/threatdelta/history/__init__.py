"""The history of a threat model: every revision that changed it, per-iteration retrospectives.

``gitlog`` walks git, ``snapshot`` reduces a model blob to plain data, ``cache`` keeps snapshots
between runs, ``metrics`` works out the numbers, ``trend`` draws them, ``render`` writes the
reports, ``summary`` gives the GitHub Action its markdown.
"""
