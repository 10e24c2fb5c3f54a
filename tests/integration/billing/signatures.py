"""Signature drawings for the budget-link tests: a real drawn PNG and a blank canvas."""

from __future__ import annotations

import base64
import io


def png(drawn: bool = True, *, white: bool = False) -> str:
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (700, 160), (255, 255, 255, 255 if white else 0))
    if drawn:
        ImageDraw.Draw(img).line([(40, 120), (120, 40), (220, 110), (330, 50)], "black", 3)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


DRAWN = png()
BLANK = png(drawn=False)
BLANK_WHITE = png(drawn=False, white=True)
