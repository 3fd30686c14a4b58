import verifiers.v1 as vf

FACTORS = {"m": 1.0, "km": 1000.0, "mi": 1609.344, "ft": 0.3048}
lookups = []  # the units looked up in this rollout


def _factor(unit: str) -> float:
    if unit not in FACTORS:
        raise ValueError(f"unknown unit {unit!r}; use one of {sorted(FACTORS)}")
    return FACTORS[unit]


class UnitToolset(vf.Toolset[vf.ToolsetConfig]):
    TOOL_PREFIX = "units"

    @vf.tool
    def factor(self, unit: str) -> float:
        """How many metres one `unit` is."""
        lookups.append(unit)
        return _factor(unit)

    @vf.tool
    def convert(self, value: float, unit_from: str, unit_to: str) -> float:
        """Convert `value` from `unit_from` to `unit_to`, rounded to 4 decimals."""
        return round(value * _factor(unit_from) / _factor(unit_to), 4)

    @vf.tool(name="looked_up")
    def history(self) -> list[str]:
        """The units looked up so far."""
        return list(lookups)


if __name__ == "__main__":
    UnitToolset.run()
