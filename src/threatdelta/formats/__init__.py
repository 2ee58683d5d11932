"""Readers (and writers) for the model formats threatdelta understands."""
