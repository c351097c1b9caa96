"""Demo data for `make run`: two demo accounts and alerts based on real published warnings.

The facts come from public alerts (see the domain notes); dates are moved to around today so
the demo shows active, withdrawn and scheduled alerts. Loading twice changes nothing.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core.clock import now
from core.db import db
from editors.models import Editor, Role
from editors.passwords import hash_password

from . import lifecycle
from .models import Alert

demo_cli = AppGroup("demo", help="Demo data for trying Signaal out.")

DEMO_ACCOUNTS = (("editor@signaal.demo", Role.EDITOR), ("publisher@signaal.demo", Role.PUBLISHER))


def _texts(nl: tuple[str, str, str, str], en: tuple[str, str, str, str]) -> dict[str, dict[str, str]]:
    keys = ("headline", "push_text", "description", "instruction")
    return {"nl": dict(zip(keys, nl, strict=True)), "en": dict(zip(keys, en, strict=True))}


def _pill(form: str = "tablet", **fields: Any) -> dict[str, Any]:
    return {"form": form, **fields}


DEMO_ALERTS: list[dict[str, Any]] = [
    {
        "incident_key": "demo-audi-300mg",
        "level": "red_alert",
        "risk_reasons": ["very_high_dose"],
        "product": _pill(
            sold_as="XTC",
            logo_name="Audi",
            logo_description="four interlocking rings",
            colours=["beige", "gold"],
            shape="elongated",
            back_side="score line",
        ),
        "components": [{"substance": "MDMA", "amount": 300, "unit": "mg"}],
        "reference": {"substance": "MDMA", "amount": 136, "unit": "mg"},
        "samples": {"count": 3, "test_sites": ["Noord-Brabant (2)", "Utrecht"]},
        "areas": ["NL"],
        "area_description": "Heel Nederland",
        "texts": _texts(
            (
                "Rode alert: beige-gouden Audi-pil met meer dan 300 mg MDMA",
                "Rode alert: Audi-pil (beige/goud) bevat meer dan 300 mg MDMA. Niet gebruiken.",
                "Langwerpige beige-gouden tablet met het logo van vier ringen. Drie monsters sinds eind "
                "november, ruim twee keer de gemiddelde pil van 136 mg.",
                "Gebruik deze pil niet. Reageert iemand slecht, ga naar de EHBO of bel 112.",
            ),
            (
                "Red alert: beige-gold Audi pill with over 300 mg MDMA",
                "Red alert: Audi pill (beige/gold) contains over 300 mg MDMA. Do not use it.",
                "Elongated beige-gold tablet with the four-rings logo. Three samples since late November, "
                "more than twice the average pill of 136 mg.",
                "Do not use this pill. If someone reacts badly, go to first aid or call 112.",
            ),
        ),
    },
    {
        "incident_key": "demo-tesla-doc",
        "level": "warning",
        "risk_reasons": ["unexpected_substance", "delayed_onset"],
        "product": _pill(sold_as="2C-B", logo_name="Tesla", colours=["pink"], shape="triangle"),
        "components": [{"substance": "DOC", "amount": None, "unit": "mg", "expected": False, "quantified": False}],
        "areas": ["GM0268", "NL-GE"],
        "area_description": "Nijmegen en Gelderland",
        "texts": _texts(
            (
                "Roze driehoekige Tesla-pil verkocht als 2C-B bevat DOC",
                "Tesla-pil (roze, driehoek) verkocht als 2C-B bevat DOC: werkt tot een dag. Niet gebruiken.",
                "Een hoge dosis DOC in plaats van 2C-B. De werking begint laat en houdt ongeveer een dag aan; "
                "zeven studenten werden in het ziekenhuis opgenomen.",
                "Neem niet bij als je niets voelt. Bel 112 bij onrust, hoge koorts of verwardheid.",
            ),
            (
                "Pink triangular Tesla pill sold as 2C-B contains DOC",
                "Tesla pill (pink, triangle) sold as 2C-B contains DOC: lasts up to a day. Do not use it.",
                "A high dose of DOC instead of 2C-B. Effects start late and last about a day; seven students "
                "were taken to hospital.",
                "Do not redose if you feel nothing. Call 112 for agitation, high fever or confusion.",
            ),
        ),
    },
    {
        "incident_key": "demo-casa-de-papel",
        "level": "warning",
        "risk_reasons": ["very_high_dose"],
        "product": _pill(sold_as="XTC", logo_name="La Casa de Papel", logo_description="Dalí mask"),
        "components": [{"substance": "MDMA", "amount": 366, "unit": "mg"}],
        "reference": {"substance": "MDMA", "amount": 136, "unit": "mg"},
        "areas": ["ES-MD"],
        "area_description": "Madrid",
        "texts": _texts(
            (
                "La Casa de Papel-pil met 366 mg MDMA in Madrid",
                "Madrid: La Casa de Papel-pil (masker) bevat 366 mg MDMA. Neem hooguit een klein deel.",
                "Tablet met het masker uit La Casa de Papel, gevonden in Madrid.",
                "Neem hooguit een klein deel, wacht twee uur en drink niet te veel water.",
            ),
            (
                "La Casa de Papel pill with 366 mg MDMA in Madrid",
                "Madrid: La Casa de Papel pill (mask) contains 366 mg MDMA. Take a small part at most.",
                "Tablet with the La Casa de Papel mask, found in Madrid.",
                "Take a small part at most, wait two hours, and do not drink too much water.",
            ),
        ),
    },
    {
        "incident_key": "demo-mdma-cathinones",
        "level": "caution",
        "risk_reasons": ["unexpected_substance"],
        "product": _pill("crystal", sold_as="MDMA"),
        "components": [
            {"substance": "3-MMC", "amount": None, "unit": "mg", "expected": False, "quantified": False},
            {"substance": "Eutylone", "amount": None, "unit": "mg", "expected": False, "quantified": False},
        ],
        "areas": ["GB"],
        "area_description": "Festivals in the UK",
        "texts": _texts(
            (
                "'MDMA'-kristallen op festivals blijken cathinonen",
                "'MDMA' op festivals bleek 3-MMC en eutylone: werkt 24 uur, angst en paranoia.",
                "Monsters die als MDMA werden verkocht bevatten cathinonen, waaronder 3-MMC en eutylone.",
                "Laat je middel testen. Neem niet bij; effecten kunnen meer dan 24 uur aanhouden.",
            ),
            (
                "'MDMA' crystals at festivals turn out to be cathinones",
                "'MDMA' at festivals was 3-MMC and eutylone: lasts 24 hours, anxiety and paranoia.",
                "Samples sold as MDMA contained cathinones, among them 3-MMC and eutylone.",
                "Get your drugs tested. Do not redose; effects can last over 24 hours.",
            ),
        ),
    },
]

WITHDRAWN_DEMO: dict[str, Any] = {
    "incident_key": "demo-pink-question-mark",
    "level": "red_alert",
    "risk_reasons": ["unexpected_substance", "delayed_onset"],
    "product": _pill(sold_as="XTC", logo_name="?", logo_description="mirrored question mark", colours=["pink"]),
    "components": [{"substance": "PMMA", "amount": None, "unit": "mg", "expected": False, "quantified": False}],
    "areas": ["NL"],
    "area_description": "Heel Nederland",
    "texts": _texts(
        (
            "Roze pil met gespiegeld vraagteken bevat PMMA",
            "Roze pil met gespiegeld vraagteken bevat PMMA: werkt laat, levensgevaarlijk. Niet gebruiken.",
            "PMMA werkt pas laat; wie bijneemt loopt kans op een dodelijke oververhitting.",
            "Gebruik deze pil niet. Bel 112 bij oververhitting of verwardheid.",
        ),
        (
            "Pink pill with a mirrored question mark contains PMMA",
            "Pink pill with a mirrored question mark contains PMMA: delayed, life-threatening. Do not use.",
            "PMMA acts late; redosing risks fatal overheating.",
            "Do not use this pill. Call 112 for overheating or confusion.",
        ),
    ),
}


@demo_cli.command("load")
def load() -> None:
    """Create the demo accounts and alerts (once) and print the demo login."""
    editor, publisher = (_account(email, role) for email, role in DEMO_ACCOUNTS)
    if db.session.scalar(select(Alert.id).where(Alert.incident_key.like("demo-%")).limit(1)) is None:
        for spec in DEMO_ALERTS:
            _publish(spec, editor, publisher)
        withdrawn = _publish(WITHDRAWN_DEMO, editor, publisher)
        lifecycle.withdraw(withdrawn, publisher, "no_longer_circulating", "No further samples appeared.")
        click.echo(f"demo: loaded {len(DEMO_ALERTS) + 1} alerts")
    password = _demo_password()
    for email, role in DEMO_ACCOUNTS:
        click.echo(f"demo login ({role.value}): {email} / {password}  at /editor/login")


def _publish(spec: dict[str, Any], editor: Editor, publisher: Editor) -> Alert:
    moment = now()
    payload = {**spec, "effective": moment.isoformat(), "expires": (moment + timedelta(days=30)).isoformat()}
    alert = lifecycle.create_alert(payload, editor, incident_key=payload.pop("incident_key"))
    lifecycle.submit(alert, editor)
    lifecycle.approve(alert, publisher)
    lifecycle.publish(alert, publisher)
    return alert


def _account(email: str, role: Role) -> Editor:
    editor = db.session.scalar(select(Editor).where(Editor.email == email))
    if editor is None:
        editor = Editor(email=email, role=role, password_hash=hash_password(_demo_password()))
        db.session.add(editor)
        db.session.commit()
    return editor


def _demo_password() -> str:
    """One random password per installation, kept in instance/ so the login can be printed again."""
    path = Path(current_app.instance_path) / "demo-password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(12))
    return path.read_text().strip()
