"""The DRAFT watermark of a run rendered with ``--draft``: on every page, in HTML and PDF."""

from __future__ import annotations

import re

DRAFT_CSS = (
    "<style>.roistory-draft{position:fixed;top:38%;left:0;right:0;text-align:center;"
    "font:bold 110pt sans-serif;letter-spacing:12pt;color:rgba(200,30,30,.16);"
    "transform:rotate(-32deg);z-index:1000;pointer-events:none}</style>"
)
# position:fixed repeats the element on every PDF page (WeasyPrint) and keeps it on screen
DRAFT_MARK = '<div class="roistory-draft" aria-hidden="true">DRAFT</div>'


def watermark(html: str) -> str:
    """``html`` with the watermark after ``<body>`` and its style before ``</head>``."""
    html = re.sub(r"</head>", lambda m: DRAFT_CSS + m.group(0), html, count=1, flags=re.IGNORECASE)
    marked, found = re.subn(r"<body\b[^>]*>", lambda m: m.group(0) + DRAFT_MARK, html, count=1, flags=re.IGNORECASE)
    return marked if found else DRAFT_MARK + html
