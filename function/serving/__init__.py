"""Serving RunFunction over gRPC: the servicer, the memo, TLS and the server loop."""
