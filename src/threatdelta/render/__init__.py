"""Renderers: they take finished results (a register, a review) and never recompute them."""
