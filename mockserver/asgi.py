"""ASGI entry for multi-worker uvicorn: each worker builds the app from MOCKSERVER_* variables."""

from mockserver.app import create_app

app = create_app()
