//! First start with no dataset: the built-in demo catalogue, and downloading
//! MovieLens latest-small (from a local HTTP server on 127.0.0.1 only).
