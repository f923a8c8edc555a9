"""Numeric limits of the real API, in one place (reference §3–§7)."""

__all__ = [
    "MAX_FILE_BYTES", "MAX_UPLOAD_BYTES", "MAX_PART_BYTES", "UPLOAD_TTL_SECONDS", "FILE_PURPOSES",
    "UPLOAD_PURPOSES", "MIN_EXAMPLES", "METHODS", "SUFFIX_MAX", "METADATA_MAX_PAIRS", "METADATA_KEY_MAX",
    "METADATA_VALUE_MAX", "N_EPOCHS_RANGE", "BATCH_SIZE_RANGE", "BETA_MAX", "SEED_MAX",
    "LIST_LIMITS", "EpochRule", "default_epochs", "CHECKPOINTS_KEPT", "MAX_METRIC_EVENTS",
    "RESPONSES_MIN_OUTPUT_TOKENS", "BATCH_ENDPOINTS", "BATCH_SERVED_ENDPOINTS", "BATCH_COMPLETION_WINDOWS",
    "BATCH_MAX_REQUESTS", "BATCH_MAX_BYTES", "BATCH_WINDOW_SECONDS",
    "SchemaLimits", "MAX_MESSAGE_CHARS", "MAX_PROMPTS", "MAX_JSON_BODY_BYTES", "MAX_GENERATION_BODY_BYTES",
    "MAX_INTEGRATIONS", "INTEGRATION_TEXT_MAX", "MAX_INTEGRATION_TAGS", "INTEGRATION_TAG_MAX", "FILENAME_MAX", "MIME_TYPE_MAX",
    "EXPIRES_AFTER_RANGE", "FORCED_FAILURE_STAGES", "CLOCK_LATEST", "TIME_SCALE_RANGE",
]

MAX_FILE_BYTES = 512 * 1024 * 1024          # POST /files: 512 MB per file
MAX_UPLOAD_BYTES = 8 * 1024 * 1024 * 1024   # Uploads API: 8 GB per upload
MAX_PART_BYTES = 64 * 1024 * 1024           # Uploads API: 64 MB per part
UPLOAD_TTL_SECONDS = 3600                   # an Upload expires an hour after creation
EXPIRES_AFTER_RANGE = (3600, 2_592_000)     # expires_after.seconds (files, batch outputs): an hour to 30 days

# Purposes accepted on upload, in the order the real error message lists them.
FILE_PURPOSES = ("fine-tune", "assistants", "batch", "user_data", "vision", "evals")
UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")

MIN_EXAMPLES = 10
METHODS = ("supervised", "dpo", "reinforcement")   # fine-tuning `method.type`
SUFFIX_MAX = 64
METADATA_MAX_PAIRS = 16
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512
N_EPOCHS_RANGE = (1, 50)
BATCH_SIZE_RANGE = (1, 256)
BETA_MAX = 2.0
SEED_MAX = 2_147_483_647

# (default, maximum) of `limit` per list endpoint.
LIST_LIMITS = {
    "files": (10_000, 10_000),
    "jobs": (20, 100),
    "events": (20, 100),
    "checkpoints": (10, 100),
    "batches": (20, 100),
    "input_items": (20, 100),
}

RESPONSES_MIN_OUTPUT_TOKENS = 16   # `max_output_tokens` below this is 400 integer_below_min_value

# Batch API: the endpoints `POST /batches` accepts (in the order the real error lists them) and those the
# emulator answers; one input file holds at most 50,000 requests and 200 MB; the window is 24 h.
BATCH_ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses")
BATCH_SERVED_ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/responses")
BATCH_COMPLETION_WINDOWS = ("24h",)
BATCH_MAX_REQUESTS = 50_000
BATCH_MAX_BYTES = 200 * 1024 * 1024
BATCH_WINDOW_SECONDS = 24 * 3600


# Structured outputs (response_format json_schema, function parameters): the documented schema limits.
class SchemaLimits:
    MAX_PROPERTIES = 5000          # object properties in the whole schema
    MAX_DEPTH = 10                 # levels of object nesting
    MAX_ENUM_VALUES = 1000         # enum values in the whole schema
    MAX_NAME_CHARS = 120_000       # property names, definition names, enum and const values together


MAX_MESSAGE_CHARS = 10_485_760      # one string in messages[] / prompt (the real `string_above_max_length`)
MAX_PROMPTS = 2048                  # /v1/completions: prompts in one request (as /v1/embeddings inputs)
MAX_GENERATION_BODY_BYTES = 32 * 1024 * 1024   # JSON body of chat/completions requests
MAX_JSON_BODY_BYTES = 1024 * 1024              # JSON body of every other endpoint (jobs, uploads, /_mock)

# Stored fields the reference gives no limit for (UNVERIFIED; see the README's choices).
MAX_INTEGRATIONS = 5                # fine-tuning job `integrations` entries
INTEGRATION_TEXT_MAX = 128          # wandb project / name / entity (W&B's own project-name limit)
MAX_INTEGRATION_TAGS = 64           # wandb tags per integration
INTEGRATION_TAG_MAX = 64            # characters of one wandb tag
FILENAME_MAX = 512                  # POST /v1/uploads `filename`, /v1/files file names
MIME_TYPE_MAX = 255                 # POST /v1/uploads `mime_type` (RFC 6838: type/subtype ≤ 127 each)

CHECKPOINTS_KEPT = 3        # one checkpoint per epoch, the last three kept
MAX_METRIC_EVENTS = 400     # metrics events per job are thinned beyond this many steps


class EpochRule:
    """The cookbook's `n_epochs: auto` constants (reference §7.5)."""

    TARGET_EPOCHS = 3
    MIN_TARGET_EXAMPLES = 100
    MAX_TARGET_EXAMPLES = 25_000
    MIN_DEFAULT_EPOCHS = 1
    MAX_DEFAULT_EPOCHS = 25


def default_epochs(n_examples: int) -> int:
    """Epochs chosen for `n_epochs: "auto"`: 10 examples → 10, 100 → 3, 5 → 20."""
    r = EpochRule
    if n_examples <= 0:
        return r.TARGET_EPOCHS
    if n_examples * r.TARGET_EPOCHS < r.MIN_TARGET_EXAMPLES:
        return min(r.MAX_DEFAULT_EPOCHS, r.MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * r.TARGET_EPOCHS > r.MAX_TARGET_EXAMPLES:
        return max(r.MIN_DEFAULT_EPOCHS, r.MAX_TARGET_EXAMPLES // n_examples)
    return r.TARGET_EPOCHS


# The emulator's own control plane (/_mock), not the real API's.
FORCED_FAILURE_STAGES = ("validating_files", "queued", "running")   # POST /_mock/jobs/{id}/fail `stage`
CLOCK_LATEST = 2**31 - 1 - 366 * 86400   # timestamps are 32-bit on PostgreSQL: leave a year for running jobs
TIME_SCALE_RANGE = (0.001, 1e9)          # beyond these, simulated durations overflow the timestamps
