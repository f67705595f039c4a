"""Running the function without a cluster: files in, requests, a fake provider, rounds."""
