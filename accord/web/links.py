"""Pages reached from an email: one-time sign-in links and the digest's unsubscribe link.

Both links only ever show a page with one button; the change happens on the POST, so a mail scanner that
opens links uses nothing up. Sign-in links are asked for on the sign-in page (rate-limited, audited) and work
once, for 15 minutes; unsubscribe links are signed with the store's key (RFC 8058 one-click POST works too).
"""
from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from accord import app
from accord.store import accounts, audit, sign_in_links
from accord.store import digests as sent_store
from accord.web.page import _local, form_of, redirect, render, site_of
from accord.web.security import SESSION_COOKIE

router = APIRouter(include_in_schema=False)

SAME_ANSWER = ("If that email has an account, a sign-in link is on its way. It works once, for 15 minutes.")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/sign-in/link")
async def ask_for_link(request: Request):
    site = site_of(request)
    data = await form_of(request, {"email", "next"})
    _, project = site.project()
    email = data.get("email", "").strip()
    context = {"next": _local(data.get("next", "/")), "email": "", "links": app.sign_in_links_enabled(project),
               "sent": None}
    if not context["links"]:
        return render(request, "sign_in.html.j2", {**context, "error": "Sign-in links are off on this site."},
                      status=404)
    if not email or "@" not in email:
        return render(request, "sign_in.html.j2", {**context, "error": "Give the email of your account."},
                      status=400)
    what = app.send_sign_in_link(project, site.db, email, _address(request))
    who = accounts.normal_email(email)
    if what == "limited":
        audit.record(site.db, who, "sign-in-link", _address(request), outcome="refused")
        return render(request, "sign_in.html.j2", {**context, "error": "Too many sign-in links asked for lately. "
                                                   "Wait 15 minutes and try again."}, status=429)
    if what.startswith("failed"):
        audit.record(site.db, who, "sign-in-link", _address(request), after=what, outcome="failed")
        return render(request, "sign_in.html.j2", {**context, "error": "The sign-in link could not be sent now. "
                                                   "Try again later, or sign in with your password."}, status=503)
    audit.record(site.db, who, "sign-in-link", _address(request), after=what,
                 outcome="done" if what == "sent" else "refused")
    return render(request, "sign_in.html.j2", {**context, "error": None, "sent": SAME_ANSWER})


@router.get("/sign-in/link/{token}")
def open_link(request: Request, token: str):
    site = site_of(request)
    email = sign_in_links.peek(site.db, token)
    if email is None:
        return render(request, "notice.html.j2", {"title": "This sign-in link does not work",
                                                  "lines": ["It was used already, or it is older than 15 minutes. "
                                                            "Ask for a new one on the sign-in page."],
                                                  "action": None}, status=410)
    return render(request, "notice.html.j2", {"title": "Sign in", "lines": [f"Sign in as {email}."],
                                              "action": f"/sign-in/link/{token}", "hidden": [],
                                              "button": "Sign in"})


@router.post("/sign-in/link/{token}")
async def use_link(request: Request, token: str):
    site = site_of(request)
    await form_of(request, set())
    email = sign_in_links.use(site.db, token)
    if email is None or accounts.get_account(site.db, email) is None:
        audit.record(site.db, email or "anonymous", "sign-in", f"link from {_address(request)}", outcome="refused")
        return render(request, "notice.html.j2", {"title": "This sign-in link does not work",
                                                  "lines": ["It was used already, or it is older than 15 minutes. "
                                                            "Ask for a new one on the sign-in page."],
                                                  "action": None}, status=410)
    audit.record(site.db, email, "sign-in", f"link from {_address(request)}")
    response = redirect("/")
    response.set_cookie(SESSION_COOKIE, accounts.sign(site.key, accounts.new_session(site.db, email)), httponly=True,
                        samesite="lax", secure=site.secure, path="/",
                        max_age=int(accounts.SESSION_LIFETIME.total_seconds()))
    return response


@router.get("/digest/unsubscribe")
def unsubscribe_page(request: Request, t: str = ""):
    site = site_of(request)
    person = sent_store.person_of(site.key, t)
    if person is None:
        return render(request, "notice.html.j2", {"title": "This link does not work",
                                                  "lines": ["Use the link at the end of your latest digest."],
                                                  "action": None}, status=400)
    return render(request, "notice.html.j2", {"title": "Stop the morning digest",
                                              "lines": [f"No more morning digests to {person}."],
                                              "action": "/digest/unsubscribe", "hidden": [("t", t)],
                                              "button": "Stop my digests"})


@router.post("/digest/unsubscribe")
async def unsubscribe(request: Request, t: str = ""):
    """The confirmation form (with CSRF), or a mail client's one-click POST (RFC 8058: the signed token in the URL,
    `List-Unsubscribe=One-Click` in the body): either way the signed token names the person."""
    site = site_of(request)
    form = await request.form(max_files=0, max_fields=5)
    one_click = form.get("List-Unsubscribe") == "One-Click"
    if not one_click:
        data = await form_of(request, {"t"})
        t = data.get("t", t)
    person = sent_store.person_of(site.key, t)
    if person is None:
        return render(request, "notice.html.j2", {"title": "This link does not work",
                                                  "lines": ["Use the link at the end of your latest digest."],
                                                  "action": None}, status=400)
    sent_store.unsubscribe(site.db, person)
    audit.record(site.db, person, "digest.unsubscribe", person, outcome="done")
    return render(request, "notice.html.j2", {"title": "Done", "lines": [f"{person} gets no more morning digests."],
                                              "action": None})
