"""What counts as a message claiming that something was saved."""

from __future__ import annotations

import re

# Said only when the thing is in the database: the /pulse confirmation, a check mark, the
# internal-error text's promise, and "was/is/has been … recorded/saved/stored".
_CLAIMS = re.compile(
    r"pulse recorded|:white_check_mark:|nothing you typed was lost"
    r"|\b(?:was|is|are|were|been|now|safely) (?:recorded|saved|stored)\b",
    re.IGNORECASE,
)
# A promise about later ("… once it is back", "… when it is recorded") is not a claim.
_LATER = re.compile(r"\b(?:when|once|until|after|as soon as|if)\b[^.;!?\n]*", re.IGNORECASE)


def claims_saved(text: str) -> bool:
    return bool(_CLAIMS.search(_LATER.sub("", text or "")))
