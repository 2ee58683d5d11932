"""Running inside a GitHub Actions job: the runner's environment, the event, annotations, the job
summary. ``threatdelta.commands.github`` wires these to the review and the publisher."""
