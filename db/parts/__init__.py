"""The store's subject parts (store.clients, store.referrals, ...), one file each.

Each part's public methods declare their rule with db.api (read, write or job);
the SQL and the rules stay in the plain subject modules the parts call.
Resolvers (owners.py) name the client a referral, session, plan, goal or document belongs
to, for the client-scoped policy decisions.
"""
