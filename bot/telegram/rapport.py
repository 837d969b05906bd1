"""The report over all plans in Telegram: /rapport sends it as a PDF to a teamleider (their
team) or a beleidsmedewerker (every team, or the team named); others are refused."""

from __future__ import annotations

import asyncio

from telegram.constants import ChatAction

from bot.report import ReportDenied, scope_for
from bot.report_render import render
from bot.telegram.kit import Asked, Kit
from bot.telegram.sending import retried


async def report(kit: Kit, asked: Asked) -> None:
    """/rapport [team]: the report of the teams the professional's role gives, as a PDF."""
    bot, chat_id = asked.bot, asked.chat_id
    user = asked.update.effective_user
    assert user is not None
    # The role as stored now, not as cached when the professional was first seen: a role
    # the administrator just changed counts at once.
    who = await kit.call(bot, chat_id, lambda: kit.access.professional(user.id))
    team = " ".join(asked.args).strip() or None
    try:
        if who is None:
            raise ReportDenied
        scope = scope_for(who, team)
    except ReportDenied:
        await kit.tell(bot, chat_id, "rapport_geen_toegang")
        return
    await retried(lambda: bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT))
    document = await kit.call(
        bot, chat_id, lambda: kit.app.report.build(scope, actor=who.actor, fmt="pdf")
    )
    renderer = kit.app.renderer
    # A report is rare: rendered in a thread rather than the plans' document workers.
    pdf = await asyncio.to_thread(
        render, "pdf", document, kit.spec, renderer.html_env, renderer.template_dirs
    )
    teams = (
        kit.spec.message("rapport_alle_teams")
        if scope.teams is None
        else ", ".join(t or kit.spec.message("rapport_zonder_team") for t in scope.teams)
    )
    caption = kit.spec.message("rapport_bijschrift", teams=teams)
    name = f"rapport-{document['generated_on']}.pdf"
    await retried(lambda: bot.send_document(chat_id, document=pdf, filename=name, caption=caption))
