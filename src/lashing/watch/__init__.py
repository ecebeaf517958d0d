"""`lashing watch`: a running engine's events, followed and audited.

    stream   GET /events off a Unix socket: chunked HTTP, whole lines, bounded
    events   one event line -> Event (Docker's and Podman's shapes)
    client   the engine API calls of a watch, on top of host.engine.EngineClient
    audit    container, exec and image -> RuntimeSubject -> LSH-RUN findings
    watcher  the loop: dedup, reconnect with backoff, since=, gap reports
    config   [watch] exceptions and [policy] from lashing.toml
    output   one line per finding (JSON or table), warnings on stderr
"""
