"""Django's MySQL backend, refusing a session that asked for TLS and did not get it
(`infinityai.database.require_negotiated_tls` says why)."""
