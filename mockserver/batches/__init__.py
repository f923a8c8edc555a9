"""The Batch API (`/v1/batches`)."""
