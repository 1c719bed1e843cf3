"""The Clients screen: search, the client record, new clients with the duplicate check."""
