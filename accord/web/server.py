"""The ASGI app: the routers, the middleware, and the error pages (403 logged, 4xx never a 500)."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.staticfiles import StaticFiles

from accord.errors import UserError
from accord.store import audit
from accord.web.page import HERE, BadForm, Refused, redirect, render
from accord.web.security import BodyLimit, Guard
from accord.web.site import Site


def build(root: Path, warm: bool = True) -> FastAPI:
    site = Site(root)
    web = FastAPI(title="accord", version="1", openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)
    web.state.site = site
    web.add_middleware(Guard)
    web.add_middleware(BodyLimit)        # added last, so it runs first
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    from accord.web import api, pages
    web.include_router(api.router)
    web.include_router(pages.router)

    @web.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        person = getattr(request.state, "person", None)
        audit.record(site.db, person.email if person else "anonymous", exc.action, exc.target,
                     outcome="refused")
        return render(request, "refused.html.j2", {"why": exc.why}, status=403)

    @web.exception_handler(BadForm)
    async def bad_form(request: Request, exc: BadForm):
        return render(request, "problem.html.j2", {"title": "This form cannot be used", "lines": [str(exc)]},
                      status=400)

    @web.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        return render(request, "problem.html.j2", {"title": "Something needs fixing", "lines": exc.lines()},
                      status=422)

    @web.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 303:
            return redirect(exc.headers["Location"])
        if request.url.path.startswith("/api/"):
            from fastapi.responses import JSONResponse
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        titles = {404: "Not found", 405: "Not allowed here", 401: "Sign in first"}
        return render(request, "problem.html.j2", {"title": titles.get(exc.status_code, "Refused"),
                                                   "lines": [str(exc.detail)]}, status=exc.status_code)

    @web.on_event("shutdown")
    def close() -> None:
        site.close()

    if warm:       # start computing at once, so that the first page is served from the results
        import threading
        threading.Thread(target=_warm, args=(site,), daemon=True, name="accord-warm").start()
    return web


def _warm(site: Site) -> None:
    """Compute the results, then draw the charts of the home page (drawing is the slow part of a page; the other
    pages draw theirs when first asked)."""
    site.warm()
    overview = site.overview()
    if overview is None:
        return
    from accord.web.page import templates
    env = templates()
    for m in overview.report.company:
        env.filters["trend"](m)

