"""The plan repository's statements: built once, run with bind parameters (a prebuilt
statement on the connection costs about a sixth of building one and running it through a
Session)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, bindparam, insert, select, update

from storage.access import PlanAccess
from storage.models import Answer, Chat, Household, Plan

# The columns of _plans_query: a plan row with its household's keyed hash and encrypted number.
PlanColumns = tuple[int, str, str, str, int, str | None, datetime, datetime, str, str | None]


def plans_query() -> Select[*PlanColumns]:
    # Columns, not ORM objects: nothing is kept in the session's identity map, so a
    # long-lived session can never serve a plan another writer has changed since.
    return select(
        Plan.id,
        Plan.status,
        Plan.state,
        Plan.data,
        Plan.revision,
        Plan.owner,
        Plan.created_at,
        Plan.updated_at,
        Household.number,
        Household.number_enc,
    ).join(Household, Household.id == Plan.household_id)


# The statements every turn runs.
PLAN_BY_ID = plans_query().where(Plan.id == bindparam("plan_id"))
ANSWERS_OF_PLAN = (
    select(Answer.field, Answer.value, Answer.created_at)
    .where(Answer.plan_id == bindparam("plan_id"))
    .order_by(Answer.id)
)
# A turn's reads in one round trip: the plan, and beside it the chat's binding and the
# professional's role (NULL when there is none, or when no chat or professional is given).
TURN = (
    plans_query()
    .add_columns(
        Chat.plan_id.label("chat_plan_id"),
        Chat.kind.label("chat_kind"),
        Chat.facilitator.label("chat_facilitator"),
        Chat.first_message_id.label("chat_first_message_id"),
        PlanAccess.role,
    )
    .outerjoin(Chat, Chat.chat_key == bindparam("chat_key"))
    .outerjoin(
        PlanAccess,
        (PlanAccess.plan_id == Plan.id)
        & (PlanAccess.professional_id == bindparam("professional_id")),
    )
    .where(Plan.id == bindparam("plan_id"))
)
SAVE_TURN = (
    update(Plan)
    .where(Plan.id == bindparam("plan_id"))
    .where(Plan.revision == bindparam("expected_revision"))
    .values(
        state=bindparam("new_state"),
        data=bindparam("new_data"),
        status=bindparam("new_status"),
        revision=Plan.revision + 1,
        updated_at=bindparam("new_updated_at"),
    )
)
INSERT_ANSWERS = insert(Answer)
