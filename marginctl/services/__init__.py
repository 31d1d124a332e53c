"""Use cases: each public function runs one command in one database transaction."""
