"""One thin router per resource: parse → store → wire dict."""
