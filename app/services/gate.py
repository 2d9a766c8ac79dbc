"""The champion/challenger gate of scheduled retrains.

The worker measures both versions on the same held-out test rows (re-evaluating the
champion when its recorded metric came from other data), then ``apply_gate`` decides
and records the decision in the alias history inside the registration transaction:
a promotion as an ``auto-promote`` move, a refusal as a ``gate-kept`` row (no move).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.domain.errors import NotFound
from app.models import AliasHistory, ModelVersion, Schedule, utcnow
from app.services import aliases

LOWER_IS_BETTER = ("test_loss",)


@dataclass(frozen=True)
class Policy:
    metric: str
    higher_is_better: bool
    min_improvement: float
    alias: str

    @classmethod
    def of(cls, schedule: Schedule) -> Policy:
        return cls(schedule.metric, schedule.higher_is_better, schedule.min_improvement, schedule.alias)


@dataclass(frozen=True)
class Measured:
    """The champion as the worker measured it on the challenger's test rows."""

    champion_version_id: int | None
    champion_metric: float | None
    source: str  # "recorded" (same test data) | "re-evaluated" | "none" (no champion) | why not comparable
    metric: str | None = None  # the metric measured: the policy's when the job's training ended


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def decide(policy: Policy, champion: float | None, challenger: float | None, *, has_champion: bool) -> Decision:
    """Promote only a challenger that beats the champion by at least ``min_improvement``."""
    if challenger is None:
        return Decision(False, f"the new version has no {policy.metric}")
    if not has_champion:
        return Decision(True, f"no version holds {policy.alias} yet")
    if champion is None:
        return Decision(False, f"the champion's {policy.metric} could not be measured on the same test data")
    gain = challenger - champion if policy.higher_is_better else champion - challenger
    better = "higher" if policy.higher_is_better else "lower"
    verdict = (f"{policy.metric} {challenger:.4f} vs champion {champion:.4f} "
               f"({better} is better, gain {gain:+.4f}, required > 0 and >= {policy.min_improvement:g})")
    if gain > 0 and gain >= policy.min_improvement:
        return Decision(True, "better: " + verdict)
    return Decision(False, "not better: " + verdict)


def apply_gate(session: Session, schedule: Schedule, model_name: str, challenger: ModelVersion,
               measured: Measured) -> dict[str, Any]:
    """Decide and record; called in the transaction that registers ``challenger``."""
    policy = Policy.of(schedule)
    try:
        holder = aliases.resolve_alias(session, model_name, policy.alias)
    except NotFound:
        holder = None
    champion_metric, source = measured.champion_metric, measured.source
    if measured.metric is not None and measured.metric != policy.metric:
        # The schedule's metric was edited while the job trained: what was measured compares nothing.
        champion_metric, source = None, f"measured {measured.metric}, but the policy now uses {policy.metric}"
    elif holder is not None and holder.id != measured.champion_version_id:
        # The alias moved while the job ran: compare with what its new holder recorded.
        recorded = (holder.metrics or {}).get(policy.metric)
        same_data = holder.dataset_id == challenger.dataset_id
        champion_metric = recorded if same_data and isinstance(recorded, int | float) else None
        source = "recorded (the alias moved during training)" if same_data else "alias moved; other test data"
    value = (challenger.metrics or {}).get(policy.metric)
    decision = decide(policy, champion_metric, value if isinstance(value, int | float) else None,
                      has_champion=holder is not None)
    details = {"schedule": schedule.name, "policy": asdict(policy), "decision": "promoted" if decision.promote
               else "kept", "champion_version_id": holder.id if holder else None,
               "champion_metric": champion_metric, "champion_metric_source": source,
               "challenger_metric": value}
    reason = f"schedule {schedule.name}: {decision.reason}"
    actor = f"schedule:{schedule.name}"
    if decision.promote:
        aliases.promote(session, model_name, policy.alias, challenger.version, reason=reason, actor=actor,
                        action="auto-promote", details=details)
    else:
        session.add(AliasHistory(model_id=challenger.model_id, alias=policy.alias, action="gate-kept",
                                 from_version_id=holder.id if holder else None, to_version_id=challenger.id,
                                 actor=actor, reason=reason, at=utcnow(), details=details,
                                 from_metrics=holder.metrics if holder else {}, to_metrics=challenger.metrics))
        session.flush()
    return details
