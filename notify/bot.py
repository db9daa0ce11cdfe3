"""`pricewatch bot`: the Telegram bot for channel managers (python-telegram-bot Application, long polling)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from html import escape
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from crawler.config import Config
from crawler.errors import UserError
from enforcement.notices import CASE_CALLBACK
from notify import bot_commands as commands
from notify.bot_chat import help_text, hint
from notify.messages import FEEDBACK_PREFIX, texts_for
from notify.outbox import flush_async
from notify.redact import install_log_redaction
from notify.report_files import report_files
from notify.telegram import api_urls
from storage.engine import session_scope
from storage.models import utcnow

log = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
# A command as the bot runs it: (session, chat id, arguments) → reply.
Command = Callable[[Session, str, Sequence[str]], commands.Reply]
COMMANDS = ("status", "violations", "sku", "report", "mute", "unmute", "cases", "help")
CAPTION_LIMIT = 1024  # Telegram's limit on a document's caption


def _who(update: Update) -> str:
    user = update.effective_user
    if user is None:
        return "unknown"
    return f"@{user.username}" if user.username else f"{user.full_name} ({user.id})"


async def _send(update: Update, reply: commands.Reply) -> None:
    message = update.effective_message
    if message is None:
        return
    await message.reply_text(
        reply.text, parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
    )
    for file in reply.documents:
        await message.reply_document(
            document=file.content, filename=file.filename, caption=file.caption[:CAPTION_LIMIT]
        )


def _commands(config: Config, report_builder: commands.ReportBuilder | None) -> dict[str, Command]:
    """Every command the bot answers, by name (`start` is not in the menu: Telegram sends it on a first visit)."""
    return {
        "status": lambda s, c, _a: commands.status(s, config, c),
        "violations": lambda s, c, a: commands.violations(s, config, a, c),
        "sku": lambda s, c, a: commands.sku(s, config, a, c),
        "report": lambda s, c, a: commands.report(
            s, config, a, report_builder, chat_id=c, today=utcnow().astimezone(config.tz).date()
        ),
        "mute": lambda s, c, a: commands.mute(s, config, c, a),
        "unmute": lambda s, c, a: commands.unmute(s, config, c, a),
        "cases": lambda s, c, _a: commands.cases(s, config, c),
        "help": lambda _s, c, _a: commands.Reply(help_text(config, c, greeting=False)),
        "start": lambda _s, c, _a: commands.Reply(help_text(config, c, greeting=True)),
    }


def _hint(config: Config) -> Handler:
    async def on_other(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        text = (message.text or "") if message else ""
        word = text.split(maxsplit=1)[0].split("@", 1)[0] if text.startswith("/") else None
        await _send(update, commands.Reply(escape(hint(config, word))))

    return on_other


def build_application(
    engine: Engine, config: Config, report_builder: commands.ReportBuilder | None = report_files
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot wired to the database and config; polling is started by the caller (or `run_bot`)."""
    tg = config.notify.telegram
    if tg.token is None:
        raise UserError("notify.telegram.token: the bot needs a token (set it as ${TELEGRAM_BOT_TOKEN})")
    install_log_redaction([tg.token.get_secret_value()])  # before PTB logs its API URL, token included
    base_url, base_file_url = api_urls(tg.base_url)
    texts = texts_for(config)

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await app.bot.set_my_commands([BotCommand(name, texts(f"bot.cmd.{name}")) for name in COMMANDS])

    app = (
        ApplicationBuilder()
        .token(tg.token.get_secret_value())
        .base_url(base_url)
        .base_file_url(base_file_url)
        .post_init(post_init)
        .build()
    )

    async def gate(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None or not commands.is_allowed(config, chat.id):
            # Only ids are logged: what a stranger wrote is none of our business.
            log.warning(
                "ignored update %s from chat %s: not on bot.allowed_chats", update.update_id, chat.id if chat else None
            )
            raise ApplicationHandlerStop

    def command(run: Command) -> Handler:
        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            chat_id = str(update.effective_chat.id) if update.effective_chat else ""
            with session_scope(engine) as session:
                reply = run(session, chat_id, list(context.args or []))
            await _send(update, reply)

        return handle

    async def answered(update: Update, answer: Callable[[Session, str], str]) -> bool:
        """Answer a button press and take the message's buttons away; False when it was no button press."""
        query = update.callback_query
        if query is None:
            return False
        with session_scope(engine) as session:
            text = answer(session, query.data or "")
        await query.answer(text)
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest as exc:  # the message is gone or already without buttons
            log.info("could not remove the buttons: %s", exc)
        return True

    async def on_feedback(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await answered(update, lambda s, data: commands.feedback(s, config, data, _who(update), utcnow()))

    async def on_case_approval(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if await answered(update, lambda s, data: commands.approve_case(s, config, data, _who(update), utcnow())):
            await flush_async(engine, config)  # the approved notice goes now, not with the next daily run

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("bot update %s failed: %s", getattr(update, "update_id", None), context.error)

    app.add_handler(TypeHandler(Update, gate), group=-1)
    for name, run in _commands(config, report_builder).items():
        app.add_handler(CommandHandler(name, command(run)))
    # Whatever no command above took: an unknown command, or plain text, gets a short hint.
    app.add_handler(MessageHandler(filters.COMMAND | filters.TEXT, _hint(config)))
    app.add_handler(CallbackQueryHandler(on_feedback, pattern=f"^{FEEDBACK_PREFIX}:"))
    app.add_handler(CallbackQueryHandler(on_case_approval, pattern=f"^{CASE_CALLBACK}:"))
    app.add_error_handler(on_error)
    return app


def run_bot(engine: Engine, config: Config, report_builder: commands.ReportBuilder | None = report_files) -> None:
    """Long-poll Telegram until interrupted."""
    app = build_application(engine, config, report_builder)
    app.run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY])
