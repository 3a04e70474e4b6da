"""The card's face photo (券面の顔写真) as the embedded authority gives it: a drawn placeholder.

The real card carries the holder's photo, and マイナ資格確認アプリ（居宅同意取得型） shows it so the
staff member can compare it with the patient (目視確認). The sandbox has no real people: each person
gets a simple drawing (a silhouette whose colours and hair follow from the person id), the same
every time, marked 「見本」. Nothing is downloaded, no real face is used.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

MEDIA_TYPE = "image/svg+xml"

_BACKGROUNDS = ("#dce8f5", "#e4f1e1", "#f5ecd9", "#ece3f3", "#f3e1e1", "#e1eef0")
_SKIN = ("#f1d2b6", "#e6bf9c", "#d6a57f", "#f6dcc7", "#c99270")
_HAIR = ("#2b2b2b", "#4a3728", "#7a7a7a", "#bdbdbd", "#5c4033", "#e8e8e8")
_CLOTHES = ("#3f5f8a", "#6b4f7a", "#4f7a5b", "#7a5a3f", "#555555", "#8a3f4f")


@dataclass(frozen=True)
class FaceImage:
    media_type: str
    data: bytes


def placeholder_face(person_id: str) -> FaceImage:
    """The drawing of `person_id`: the same person always gets the same picture."""
    digest = hashlib.sha256(("face:" + person_id).encode()).digest()
    background = _BACKGROUNDS[digest[0] % len(_BACKGROUNDS)]
    skin = _SKIN[digest[1] % len(_SKIN)]
    hair = _HAIR[digest[2] % len(_HAIR)]
    clothes = _CLOTHES[digest[3] % len(_CLOTHES)]
    face_width = 46 + digest[4] % 10
    hair_style = digest[5] % 3
    glasses = digest[6] % 3 == 0
    hair_shape = (
        f'<path d="M{100 - face_width - 4} 92 Q100 {18 + digest[7] % 12} {100 + face_width + 4} 92 Z" fill="{hair}"/>',
        f'<ellipse cx="100" cy="78" rx="{face_width + 6}" ry="44" fill="{hair}"/>',
        f'<path d="M{100 - face_width} 86 Q100 40 {100 + face_width} 86 L{100 + face_width} 70 Q100 30 '
        f'{100 - face_width} 70 Z" fill="{hair}"/>',
    )[hair_style]
    spectacles = ('<g fill="none" stroke="#333" stroke-width="2"><circle cx="84" cy="104" r="9"/>'
                  '<circle cx="116" cy="104" r="9"/><path d="M93 104 H107"/></g>') if glasses else ""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 250" width="200" height="250" '
        'role="img" aria-label="カードの顔写真（見本の絵）">'
        f'<rect width="200" height="250" fill="{background}"/>'
        f'<path d="M30 250 Q30 178 100 172 Q170 178 170 250 Z" fill="{clothes}"/>'
        f'<rect x="88" y="146" width="24" height="30" fill="{skin}"/>'
        f'{hair_shape}'
        f'<ellipse cx="100" cy="108" rx="{face_width}" ry="52" fill="{skin}"/>'
        '<circle cx="84" cy="104" r="3.5" fill="#333"/><circle cx="116" cy="104" r="3.5" fill="#333"/>'
        f'{spectacles}'
        '<path d="M88 132 Q100 140 112 132" fill="none" stroke="#8a4b3c" stroke-width="2.5" stroke-linecap="round"/>'
        '<rect x="4" y="4" width="44" height="22" rx="4" fill="#ffffff" opacity="0.85"/>'
        '<text x="26" y="20" font-size="14" text-anchor="middle" fill="#333">見本</text>'
        '</svg>'
    )
    return FaceImage(MEDIA_TYPE, svg.encode())
