"""Files and uploads: routes, store, multipart parsing, the blob store on disk."""
