"""Reliability (issue 7): concurrent writers and kill -9, on SQLite and on PostgreSQL."""
