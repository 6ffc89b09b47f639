"""Passes over checked programs: linking a library into one image, parallel scheduling.

``schedule(program, width)`` (also exported as ``parallelize``) packs a width-1 program into
width-k lines (docs/LANGUAGE.md §6); ``link(parts)`` builds an :class:`Image` with entry labels.
"""

from .link import Image, link
from .schedule import basic_blocks, schedule

parallelize = schedule

__all__ = ["Image", "basic_blocks", "link", "parallelize", "schedule"]
