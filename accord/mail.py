"""Sending email through the project's SMTP server (`smtp:` in accord.yml) with smtplib.

TLS always verifies the server's certificate (`ssl.create_default_context()`); `starttls` fails closed when the
server does not offer STARTTLS; `none` is for a server on this machine only (the settings refuse it elsewhere).
Credentials come only from the environment variables that `smtp.user_env` and `smtp.password_env` name.

Each message goes out in three steps (MAIL, RCPT, DATA) so that a failure says what is known: refused before
DATA means not delivered (`Refused`, or `Unavailable` when worth retrying); a connection lost during DATA means
the outcome is unknown (`Unknown`): the server may have accepted it.
"""
from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage

from accord.errors import UserError


class MailError(Exception):
    """A message that did not go out; `str()` is one line for the person who runs the command."""


class Unavailable(MailError):
    """Not delivered, and worth trying again later (the server is down, busy or said 4xx)."""


class Refused(MailError):
    """Not delivered: the server refused it for good (5xx), or will never be safe to send through."""


class Unknown(MailError):
    """The connection ended during DATA: the server may or may not have accepted the message."""


def credentials(smtp) -> tuple[str, str] | None:
    """(user, password) from the environment variables the settings name; None for a server without sign-in."""
    if smtp.user_env is None:
        return None
    missing = [name for name in (smtp.user_env, smtp.password_env) if not os.environ.get(name)]
    if missing:
        raise UserError(f"accord.yml: smtp names the environment variable {missing[0]}, which is not set. "
                        f"export {missing[0]} with the SMTP {'user' if missing[0] == smtp.user_env else 'password'}")
    return os.environ[smtp.user_env], os.environ[smtp.password_env]


def _reply(e: smtplib.SMTPResponseException) -> str:
    text = e.smtp_error.decode(errors="replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
    return f"{e.smtp_code} {' '.join(text.split())}"


class Connection:
    """One SMTP session, opened on first use and again after it drops."""

    def __init__(self, smtp, context: ssl.SSLContext | None = None):
        self.smtp = smtp
        self.context = context or ssl.create_default_context()
        self.login = credentials(smtp)
        self._conn: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.smtp
        host, port = s.host, s.port_or_default
        try:
            if s.tls == "implicit":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=s.timeout, context=self.context)
            else:
                conn = smtplib.SMTP(host, port, timeout=s.timeout)
            conn.ehlo()
            if s.tls == "starttls":
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise Refused(f"the SMTP server {host}:{port} does not offer STARTTLS, so nothing was sent in "
                                  "the clear. enable STARTTLS on it, or use tls: implicit")
                conn.starttls(context=self.context)
                conn.ehlo()
            if self.login:
                conn.login(*self.login)
        except Refused:
            raise
        except smtplib.SMTPAuthenticationError as e:
            raise Refused(f"the SMTP server {host}:{port} refused the sign-in ({_reply(e)}). check the "
                          f"credentials in {s.user_env} and {s.password_env}") from None
        except ssl.SSLCertVerificationError as e:
            raise Refused(f"the SMTP server {host}:{port} has a certificate that does not verify "
                          f"({e.verify_message}). fix its certificate; accord never sends unverified") from None
        except (OSError, smtplib.SMTPException) as e:
            raise Unavailable(f"cannot reach the SMTP server {host}:{port} ({_why(e)})") from None
        return conn

    def ensure(self) -> None:
        """Open the session now (Unavailable or Refused when it cannot be)."""
        if self._conn is None:
            self._conn = self._open()

    def send(self, msg: EmailMessage, sender: str, to: str) -> None:
        """Deliver `msg` to `to`, or raise Unavailable, Refused or Unknown."""
        self.ensure()
        conn = self._conn
        try:
            code, reply = conn.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            code, reply = conn.rcpt(to)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
        except smtplib.SMTPRecipientsRefused as e:
            code, reply = e.recipients[to]
            self._reset()
            text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
            raise (Unavailable if 400 <= code < 500 else Refused)(f"the server refused the recipient: {code} "
                                                                   f"{' '.join(text.split())}") from None
        except smtplib.SMTPResponseException as e:
            self._reset()
            raise (Unavailable if 400 <= e.smtp_code < 500 else Refused)(
                f"the server refused the sender {sender}: {_reply(e)}") from None
        except (OSError, smtplib.SMTPException) as e:
            self.close()
            raise Unavailable(f"the connection to the SMTP server dropped before the message ({_why(e)})") from None
        try:
            # smtplib leaves bytes as they are: SMTP wants CRLF line ends
            code, reply = conn.data(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
            if code != 250:         # smtplib hands back a refusal of the message instead of raising it
                raise smtplib.SMTPDataError(code, reply)
        except smtplib.SMTPDataError as e:
            self._reset()
            raise (Unavailable if 400 <= e.smtp_code < 500 else Refused)(
                f"the server refused the message: {_reply(e)}") from None
        except (OSError, smtplib.SMTPException) as e:
            self.close()
            raise Unknown(f"the connection dropped while the message was being handed over ({_why(e)}); the server "
                          "may have accepted it") from None

    def _reset(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                try:
                    self._conn.close()
                except OSError:
                    pass
            self._conn = None


def _why(e: BaseException) -> str:
    if isinstance(e, socket.timeout):
        return "timed out"
    if isinstance(e, smtplib.SMTPResponseException):
        return _reply(e)
    text = " ".join(str(e).split()) or type(e).__name__
    return text


def plain_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A short plain-text email with Date and Message-ID."""
    import datetime as dt
    from email.utils import format_datetime, make_msgid
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "accord.invalid")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body, cte="quoted-printable")
    return msg
