"""The ground floor every app stands on: errors and their API shape, websocket plumbing,
events to a user's sockets, the thread pool, and the background job mechanism
(`core.jobs`). Nothing here imports a product app."""
