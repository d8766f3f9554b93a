"""The bank directory: which bank holds an IBAN, from the bank code inside it."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

# Where the bank code sits inside an IBAN (after the 4-character country and check digits).
_BANK_CODE_SPAN = {"KZ": (4, 7)}


class BankDirectory:
    def __init__(self, by_country: dict[str, dict[str, str]]) -> None:
        self._by_country = by_country

    @classmethod
    def load(cls, path: str | Path | None = None) -> BankDirectory:
        """Load the given JSON file, or the small directory shipped with the package."""
        if path:
            raw: Any = json.loads(Path(path).read_text(encoding="utf-8"))
        else:
            text = (
                resources.files(__package__)
                .joinpath("data/kz_bank_directory.json")
                .read_text("utf-8")
            )
            raw = json.loads(text)
        by_country = {
            country: {str(code): str(bic) for code, bic in codes.items()}
            for country, codes in raw.items()
            if not country.startswith("_")
        }
        return cls(by_country)

    def bank_for_iban(self, iban: str) -> str | None:
        span = _BANK_CODE_SPAN.get(iban[:2])
        if span is None:
            return None
        return self._by_country.get(iban[:2], {}).get(iban[span[0] : span[1]])
