"""The platform's web application: `create_app(settings)` for uvicorn, tests and the
embedded platform."""

from __future__ import annotations

import contextlib
import logging

from fastapi import FastAPI

import app as gauntlet_app
from app.platform.bodylimit import BodyLimit
from app.platform.platform import Platform
from app.platform.problems import install_problem_handlers
from app.platform.routes import blobs, bounties, feed, reviews, submissions
from app.platform.settings import Settings

log = logging.getLogger("gauntlet.server")

API_DESCRIPTION = """The Gauntlet platform: bounties, content-addressed uploads, submissions with
server-side re-checks, review threads and a change feed. Conventions (auth, ETags, idempotency,
errors) are described in docs/api.md."""


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> FastAPI:
    settings = settings or Settings()
    platform = platform or Platform.open(settings)
    if settings.demo:
        from app.platform.demo import seed_demo

        seed_demo(platform)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        worker = None
        if settings.run_worker:
            from app.platform.worker import WorkerThread

            worker = WorkerThread(platform).start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    api = FastAPI(
        title="Gauntlet platform",
        version=gauntlet_app.__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    api.state.platform = platform
    api.add_middleware(BodyLimit, max_bytes=settings.max_json_bytes)
    install_problem_handlers(api)
    for module in (feed, bounties, blobs, submissions, reviews):
        api.include_router(module.router)
    return api
