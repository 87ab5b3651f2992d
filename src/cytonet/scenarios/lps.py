"""LPS protocols: boluses in ng/kg and infusions in ng/kg/h turned into events on the network's ``LPS`` species.

Human endotoxemia doses are given per body weight (E. coli O:113 or O111:B4 reference endotoxin,
ng/kg i.v.); the network's ``LPS`` species is a plasma concentration (pg/mL). A dose spreads into the
plasma volume at once: ``pg/mL = dose (ng/kg) x weight (kg) x 1000 / plasma volume (mL)``. With the
defaults (70 kg, 3 L) 2 ng/kg gives 46.7 pg/mL, the value of the ``lps-endotoxemia`` scenario.

:func:`with_lps` replaces a scenario's own LPS events by a protocol (``--lps`` on the command line),
so ``--lps 2ng/kg@24h`` on ``lps-endotoxemia`` is one bolus at 24 h, not two.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from cytonet.errors import CytonetError, ScenarioError
from cytonet.model.spec import Bolus, Infusion

if TYPE_CHECKING:
    from cytonet.scenarios import Scenario

#: network species that carries plasma endotoxin (pg/mL)
LPS_SPECIES = "LPS"
DEFAULT_WEIGHT_KG = 70.0
#: assumption: about 3 L of plasma in a 70 kg adult (~43 mL/kg, a textbook physiology value); LPS is
#: taken to mix into plasma instantly (its distribution half-life is minutes against a ~1 h TNF peak)
DEFAULT_PLASMA_L = 3.0
CONVERSION_ASSUMPTION = ("assumption: a dose in ng/kg mixes at once into about 3 L of plasma of a 70 kg adult "
                         "(~43 mL/kg), so 1 ng/kg = 23.3 pg/mL endotoxin")

_NUMBER = r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
_AMOUNT_NG = {"pg": 1e-3, "ng": 1.0, "ug": 1e3, "µg": 1e3, "μg": 1e3}


class LpsBolus(BaseModel):
    """One i.v. LPS bolus: ``dose_ng_per_kg`` at ``time_h``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    dose_ng_per_kg: float = Field(gt=0)
    time_h: float = Field(0.0, ge=0)


class LpsInfusion(BaseModel):
    """A continuous i.v. LPS infusion: ``rate_ng_per_kg_h`` from ``start_h`` for ``duration_h``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rate_ng_per_kg_h: float = Field(gt=0)
    start_h: float = Field(0.0, ge=0)
    duration_h: float = Field(gt=0)


class LpsProtocol(BaseModel):
    """Boluses and infusions of LPS for one subject of ``weight_kg`` with ``plasma_l`` of plasma."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    boluses: tuple[LpsBolus, ...] = ()
    infusions: tuple[LpsInfusion, ...] = ()
    weight_kg: float = Field(DEFAULT_WEIGHT_KG, gt=0)
    plasma_l: float = Field(DEFAULT_PLASMA_L, gt=0)

    @property
    def pg_per_ml_per_ng_kg(self) -> float:
        """Plasma endotoxin (pg/mL) from 1 ng/kg."""
        return self.weight_kg * 1000.0 / (self.plasma_l * 1000.0)

    @property
    def last_time_h(self) -> float:
        """When the last bolus is given or the last infusion starts (0 for an empty protocol)."""
        return max([b.time_h for b in self.boluses] + [i.start_h for i in self.infusions], default=0.0)

    def events(self, target: str = LPS_SPECIES) -> list[Bolus | Infusion]:
        """Spec events (bolus amount in pg/mL, infusion rate in pg/mL/h) on ``target``."""
        k = self.pg_per_ml_per_ng_kg
        out: list[Bolus | Infusion] = [
            Bolus(id=f"lps_bolus{i + 1}", time=b.time_h, target=target, amount=b.dose_ng_per_kg * k)
            for i, b in enumerate(self.boluses)]
        out += [Infusion(id=f"lps_infusion{i + 1}", start=f.start_h, end=f.start_h + f.duration_h, target=target,
                         rate=f.rate_ng_per_kg_h * k) for i, f in enumerate(self.infusions)]
        return out

    def describe(self) -> str:
        """``2 ng/kg at 0 h; 0.5 ng/kg/h from 0 h for 4 h``."""
        parts = [f"{b.dose_ng_per_kg:g} ng/kg at {b.time_h:g} h" for b in self.boluses]
        parts += [f"{f.rate_ng_per_kg_h:g} ng/kg/h from {f.start_h:g} h for {f.duration_h:g} h" for f in self.infusions]
        return "; ".join(parts) or "no LPS"


def lps_protocol(boluses: Iterable[tuple[float, float]] = (), infusions: Iterable[tuple[float, float, float]] = (),
                 weight_kg: float = DEFAULT_WEIGHT_KG, plasma_l: float = DEFAULT_PLASMA_L) -> LpsProtocol:
    """A protocol from boluses ``[(dose ng/kg, time h)]`` and infusions ``[(rate ng/kg/h, start h, duration h)]``."""
    for what, value in (("body weight (kg)", weight_kg), ("plasma volume (L)", plasma_l)):
        if not (math.isfinite(value) and value > 0):
            raise ScenarioError(f"LPS protocol: {what} must be a positive number, got {value!r}")
    bs = [_checked_bolus(d, t) for d, t in boluses]
    fs = [_checked_infusion(r, s, h) for r, s, h in infusions]
    return LpsProtocol(boluses=tuple(bs), infusions=tuple(fs), weight_kg=weight_kg, plasma_l=plasma_l)


def _finite(value: float, what: str, where: str, zero_ok: bool) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not zero_ok):
        raise ScenarioError(f"{where}: {what} must be a {'non-negative' if zero_ok else 'positive'} finite number, "
                            f"got {value!r}")
    return v


def _checked_bolus(dose: float, time: float) -> LpsBolus:
    where = f"LPS bolus ({dose!r} ng/kg at {time!r} h)"
    return LpsBolus(dose_ng_per_kg=_finite(dose, "the dose", where, False), time_h=_finite(time, "the time", where, True))


def _checked_infusion(rate: float, start: float, hours: float) -> LpsInfusion:
    where = f"LPS infusion ({rate!r} ng/kg/h from {start!r} h for {hours!r} h)"
    return LpsInfusion(rate_ng_per_kg_h=_finite(rate, "the rate", where, False),
                       start_h=_finite(start, "the start", where, True),
                       duration_h=_finite(hours, "the duration", where, False))


def with_lps(scenario: Scenario, protocol: LpsProtocol, target: str = LPS_SPECIES) -> Scenario:
    """The scenario with its own events on ``target`` replaced by ``protocol``'s."""
    kept = [e for e in scenario.events if getattr(e, "target", None) != target]
    return scenario.model_copy(update={
        "name": f"{scenario.name} (LPS: {protocol.describe()})",
        "events": [*kept, *protocol.events(target)],
        "readouts": list(dict.fromkeys([target, *scenario.readouts])),
    })


def check_horizon(protocol: LpsProtocol, t_end: float) -> None:
    """``ScenarioError`` when a bolus or an infusion start lies at or after the simulated horizon."""
    if protocol.last_time_h >= t_end and (protocol.boluses or protocol.infusions):
        raise ScenarioError(f"LPS given at {protocol.last_time_h:g} h is not before the {t_end:g} h horizon; "
                            "lengthen it with --hours or give the LPS earlier")


# ---------------------------------------------------------------------------- command-line texts
def _hours(text: str, what: str, zero_ok: bool = True) -> float:
    from cytonet.therapy.regimen import parse_hours

    try:
        return parse_hours(text.strip(), what, allow_zero=zero_ok)
    except CytonetError as err:
        raise ScenarioError(str(err)) from None


def _amount(text: str, option: str, per_hour: bool) -> float:
    unit_re = r"(pg|ng|ug|µg|μg)/kg" + (r"/h" if per_hour else "")
    m = re.match(rf"^\s*{_NUMBER}\s*{unit_re}\s*$", text)
    example = "0.5ng/kg/h" if per_hour else "2ng/kg"
    if not m:
        raise ScenarioError(f"{option} {text!r}: give a {'rate' if per_hour else 'dose'} with its unit, e.g. {example}"
                            f"{'' if per_hour else ' or 2ng/kg@24h'}")
    value = float(m.group(1)) * _AMOUNT_NG[m.group(2)]
    if not (math.isfinite(value) and value > 0):
        raise ScenarioError(f"{option} {text!r}: the {'rate' if per_hour else 'dose'} must be positive")
    return value


def parse_lps(items: Sequence[str] = (), infusion: str | None = None, duration: str | None = None,
              weight_kg: float = DEFAULT_WEIGHT_KG) -> LpsProtocol | None:
    """``--lps 2ng/kg[@24h]`` (repeatable) and ``--lps-infusion 0.5ng/kg/h[@2h] --for 4h`` -> a protocol (None if none)."""
    boluses = []
    for item in items:
        dose, _, at = item.partition("@")
        boluses.append((_amount(dose, "--lps", False), _hours(at, f"--lps {item!r} time") if at else 0.0))
    infusions = []
    if infusion is not None:
        if duration is None:
            raise ScenarioError(f"--lps-infusion {infusion!r} needs --for, e.g. --for 4h")
        rate, _, at = infusion.partition("@")
        infusions.append((_amount(rate, "--lps-infusion", True),
                          _hours(at, f"--lps-infusion {infusion!r} start") if at else 0.0,
                          _hours(duration, "--for", zero_ok=False)))
    elif duration is not None:
        raise ScenarioError("--for is the length of an LPS infusion; give --lps-infusion RATE too")
    if not boluses and not infusions:
        return None
    return lps_protocol(boluses, infusions, weight_kg=weight_kg)
