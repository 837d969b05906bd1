"""Chat ids as keyed hashes: chats are found by chat_key, the id kept encrypted beside it.

A migration has no key, so the id is only moved here, as text, into chat_key; the next start
with the key (storage.db.ensure_encrypted, which converts after every migration) hashes it
and encrypts it into chat_enc. The inbox gets an encrypted copy of its chat id as well, so a
new key can recompute its chat_key (storage.db.rotate_key).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.alter_column(
            "chat_id",
            new_column_name="chat_key",
            type_=sa.String(length=64),
            existing_type=sa.BigInteger(),
            existing_nullable=False,
            postgresql_using="chat_id::text",
        )
        batch.add_column(sa.Column("chat_enc", sa.Text(), nullable=True))
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("chat_enc", sa.Text(), nullable=True))


def downgrade() -> None:
    # The ids stay hashed: a downgrade does not give back the plaintext, so bindings go.
    op.execute("DELETE FROM chats")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("chat_enc")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("chat_enc")
        batch.alter_column(
            "chat_key",
            new_column_name="chat_id",
            type_=sa.BigInteger(),
            existing_type=sa.String(length=64),
            existing_nullable=False,
            postgresql_using="chat_key::bigint",
        )
