"""Referrals and the waiting list: new referrals, contact attempts, allocation, closing."""
