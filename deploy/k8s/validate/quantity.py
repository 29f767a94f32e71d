"""Kubernetes resource quantities ("500m", "1", 2, "1Gi") as numbers."""

import re
from fractions import Fraction

SUFFIXES = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
}
PATTERN = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(n|u|m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


def parse(value):
    """The quantity as an exact Fraction, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Fraction(str(value))
    match = PATTERN.match(str(value))
    if not match:
        return None
    number, suffix = match.groups()
    return Fraction(number) * SUFFIXES[suffix or ""]
