"""A submission's pack card from the platform (`gauntlet calibrate`'s card.json, sent with the
submission), with the bounty's calibration targets checked against it by the server."""

from __future__ import annotations

from typing import Any

from app.calibrate.card_data import CardFileError, check_card
from app.calibrate.targets import TargetResult, results_from_json
from app.errors import UserError
from app.sync.errors import NotFound


async def fetch_card(
    client: Any, submission_id: str, revision: int
) -> tuple[dict[str, Any], list[TargetResult]]:
    """(card, checked targets) of the revision; a UserError when it has none or it is garbled."""
    path = f"/v1/submissions/{submission_id}/revisions/{revision}/card"
    try:
        data = (await client.get(path)).data
    except NotFound as exc:
        raise UserError(
            exc.message, "Ask the author to run `gauntlet calibrate` and submit again."
        ) from None
    card = data.get("card") if isinstance(data, dict) else None
    try:
        check_card(card)
    except CardFileError as exc:
        raise UserError(
            f"the platform sent a pack card that cannot be read: {exc}",
            "Sync again; if it persists, tell the platform's operators.",
        ) from None
    return card, results_from_json(data.get("targets"))
