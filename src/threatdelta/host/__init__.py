"""Reviewing a pull or merge request for a code host, the same way on every host.

:mod:`threatdelta.host.flow` holds the one flow (settings -> review -> verdict -> comment ->
publish -> reports -> exit code); :mod:`threatdelta.host.interface` says what each host supplies.
One module per host adapts its CI environment: :mod:`threatdelta.host.github_actions` and
:mod:`threatdelta.host.gitlab_ci`.
"""
