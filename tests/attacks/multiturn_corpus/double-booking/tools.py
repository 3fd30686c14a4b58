"""Room booking tools (per episode state)."""

BOOKINGS = []


def book_room(room: str, date: str) -> str:
    """Book a meeting room for a day; returns the confirmation code.

    Args:
        room: "A", "B" or "C"
        date: YYYY-MM-DD
    """
    if room not in ("A", "B", "C"):
        raise ValueError(f"no room {room!r}")
    BOOKINGS.append({"room": room, "date": date, "code": f"BK-{1000 + len(BOOKINGS) + 1}"})
    same_day = sum(1 for b in BOOKINGS if b["date"] == date)
    return f"booked room {room} on {date}: {BOOKINGS[-1]['code']} ({same_day} booking(s) that day)"


def list_bookings(date: str) -> list[dict]:
    """The bookings of a day.

    Args:
        date: YYYY-MM-DD
    """
    return [b for b in BOOKINGS if b["date"] == date]
