"""Ports and images of the services network rules protect: datastores (which
compose and Kubernetes rules both look for) and, for Kubernetes, the queues
and control APIs that must not be reachable from every namespace."""

from __future__ import annotations

import re

# Datastores by the port they serve on...
DATASTORE_PORTS: dict[int, str] = {
    3306: "MySQL", 5432: "PostgreSQL", 6379: "Redis", 27017: "MongoDB", 9200: "Elasticsearch",
    9300: "Elasticsearch", 11211: "memcached", 5984: "CouchDB", 1433: "SQL Server",
    1521: "Oracle", 9042: "Cassandra", 2379: "etcd", 8086: "InfluxDB", 7687: "Neo4j",
    26257: "CockroachDB"}
# ... and by image repository name.
DATASTORE_IMAGES = re.compile(
    r"(^|[/_-])(postgres(ql)?|postgis|mysql|mariadb|percona|redis|valkey|keydb|mongo(db)?|"
    r"elasticsearch|opensearch|memcached|couchdb|mssql|mssql-server|cassandra|scylla|etcd|"
    r"influxdb|neo4j|cockroach|clickhouse(-server)?|timescaledb)$")
# Everything that must never be reachable from outside or from every namespace:
# datastores, queues and container/cluster control APIs.
SERVICE_PORTS: dict[int, str] = {
    **DATASTORE_PORTS, 5672: "RabbitMQ", 9092: "Kafka", 2181: "ZooKeeper", 2380: "etcd",
    2375: "Docker API (plain)", 2376: "Docker API", 10250: "kubelet API"}

__all__ = ["DATASTORE_IMAGES", "DATASTORE_PORTS", "SERVICE_PORTS"]
