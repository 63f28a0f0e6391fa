"""Django's MySQL backend, with TLS held to its word (`infinityai.database.open_session`)
and a cap on the threads that wait on the database (`waiters`)."""
