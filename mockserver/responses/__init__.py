"""The Responses API (`/v1/responses`): request validation, generation through the chat engine, storage, SSE."""
