"""newsdedup: find passages copied or lightly rewritten across news outlets."""

__version__ = "0.1.0"
