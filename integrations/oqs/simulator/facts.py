"""What the history generators need to know about a person, detached from the ORM."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from integrations.oqs.simulator.health import Profile, profile_for


@dataclass(frozen=True)
class Coverage:
    start: date
    end: date | None  # 資格喪失年月日: the first day no longer covered
    kind: str  # insurer kind (codes.INSURER_KINDS)


@dataclass(frozen=True)
class PersonFacts:
    seed: int
    sex: str
    birth_date: date
    traits: str
    city: str
    town: str
    coverage: tuple[Coverage, ...]

    def covering(self, day: date) -> Coverage | None:
        """The newest qualification in force on `day` (claims need one)."""
        found = None
        for period in self.coverage:
            if period.start <= day and (period.end is None or day < period.end):
                found = period
        return found

    def profile(self) -> Profile:
        return profile_for(self.seed, self.sex, self.birth_date, self.traits)
