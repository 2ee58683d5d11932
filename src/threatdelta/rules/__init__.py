"""Rules as data: a safe expression language and the packs written in it."""
