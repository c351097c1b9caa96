"""The editor web UI under /editor/: URL rules only. The views live in the editor_*.py modules.

Every view carries editor_required with the role its action needs; the lifecycle checks the
same roles again, so a button shown by mistake still cannot do what the role forbids.
"""

from __future__ import annotations

from flask import Blueprint

from . import editor_actions, editor_compose, editor_delivery, editor_pages, editor_photos, editor_test_send

bp = Blueprint("editor", __name__, url_prefix="/editor")
bp.context_processor(editor_pages.template_helpers)
bp.context_processor(editor_delivery.template_helpers)
bp.context_processor(editor_test_send.template_helpers)

ALERT = "/alerts/<int:alert_id>"

bp.add_url_rule("/", "index", editor_pages.index)
bp.add_url_rule("/audit", "audit_log", editor_pages.audit_log)
bp.add_url_rule("/alerts/new", "new", editor_compose.new, methods=["GET", "POST"])
bp.add_url_rule(ALERT, "alert", editor_pages.alert_page)
bp.add_url_rule(f"{ALERT}/versions/<int:number>", "version", editor_pages.version_page)
bp.add_url_rule(f"{ALERT}/edit", "edit", editor_compose.edit, methods=["GET", "POST"])
bp.add_url_rule(f"{ALERT}/deliveries.json", "deliveries_json", editor_delivery.deliveries_json)
bp.add_url_rule(f"{ALERT}/test-send", "test_send", editor_test_send.test_send, methods=["POST"])
bp.add_url_rule(f"{ALERT}/photos", "add_photo", editor_photos.add_photo, methods=["POST"])
bp.add_url_rule(f"{ALERT}/photos/<int:photo_id>/remove", "remove_photo", editor_photos.remove_photo, methods=["POST"])
for _action in (
    editor_actions.submit,
    editor_actions.start_update,
    editor_actions.send_back,
    editor_actions.approve,
    editor_actions.publish,
    editor_actions.withdraw,
):
    bp.add_url_rule(f"{ALERT}/{_action.__name__.replace('_', '-')}", _action.__name__, _action, methods=["POST"])
